from datetime import datetime
from typing import Annotated

from ninja import Field, Schema
from pydantic import StringConstraints

from allied.core.schemas import Input


class ReturnLineIn(Input):
    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"\S")]
    quantity: int = Field(gt=0, le=10_000)


class ReturnCreateIn(Input):
    order_id: int = Field(description="The Allied id of a delivered order.")
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=200)
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = Field(
        default="", examples=["Wrong size"]
    )


class ReturnLineOut(Schema):
    sku: str = Field(alias="order_line.sku")
    quantity: int
    condition: str = Field(description="Set when AES receives the units: restock, quarantine or dispose.")


class ReturnOut(Schema):
    id: int
    order_id: int
    source: str
    status: str
    reason: str
    created_at: datetime
    received_at: datetime | None
    lines: list[ReturnLineOut]
