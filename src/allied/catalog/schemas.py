from decimal import Decimal

from ninja import Field, Schema


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
