from datetime import date, datetime
from typing import Annotated

from ninja import Field, Schema
from pydantic import StringConstraints

from allied.core.schemas import Date, Input


class StockLevelOut(Schema):
    sku: str = Field(alias="product.sku")
    warehouse: str = Field(alias="warehouse.code")
    on_hand: int
    reserved: int
    quarantined: int
    available: int = Field(description="on_hand − reserved − quarantined: what new orders can take.")


class StockLevelPageOut(Schema):
    items: list[StockLevelOut]
    next_cursor: str | None


class InboundLineIn(Input):
    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"\S")]
    quantity: int = Field(gt=0, le=1_000_000)


class InboundCreateIn(Input):
    reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"\S")] = (
        Field(examples=["PO-2026-118"])
    )
    warehouse: str | None = Field(default=None, description="Warehouse code; AES's main warehouse when absent.")
    expected_on: Date | None = None
    notes: Annotated[str, StringConstraints(max_length=2000)] = ""
    lines: list[InboundLineIn] = Field(min_length=1, max_length=500)


class InboundLineOut(Schema):
    sku: str = Field(alias="product.sku")
    expected_quantity: int
    received_quantity: int | None
    damaged_quantity: int
    discrepancy: int | None


class InboundOut(Schema):
    id: int
    reference: str
    warehouse: str = Field(alias="warehouse.code")
    status: str
    expected_on: date | None
    received_at: datetime | None
    lines: list[InboundLineOut]
