from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema
from pydantic import ConfigDict, StringConstraints

Sku = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._/-]+$")
]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class ProductSchema(Schema):
    id: int
    sku: str = Field(examples=["TEE-BLK-M"])
    name: str = Field(examples=["Black tee, medium"])
    barcodes: list[str]
    weight_grams: int
    length_mm: int
    width_mm: int
    height_mm: int
    declared_value: Decimal = Field(examples=["1500.00"])
    currency: str = Field(examples=["PKR"])
    tracks_lots: bool
    tracks_expiry: bool
    is_active: bool


class ProductPageSchema(Schema):
    items: list[ProductSchema]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last page.")


class ProductCreateSchema(Schema):
    model_config = ConfigDict(extra="forbid")

    sku: Sku = Field(examples=["TEE-BLK-M"], description="Unique within your organization.")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        examples=["Black tee, medium"]
    )
    barcodes: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(default=[], max_length=20)
    weight_grams: int = Field(default=0, ge=0, le=1_000_000)
    length_mm: int = Field(default=0, ge=0, le=10_000)
    width_mm: int = Field(default=0, ge=0, le=10_000)
    height_mm: int = Field(default=0, ge=0, le=10_000)
    declared_value: Decimal = Field(default=Decimal("0"), ge=0, max_digits=12, decimal_places=2, examples=["1500.00"])
    currency: Currency = Field(default="PKR", examples=["PKR"])
    tracks_lots: bool = False
    tracks_expiry: bool = False
