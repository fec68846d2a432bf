from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import StringConstraints
from pydantic import ValidationError as PydanticValidationError

from allied.core.errors import FieldError
from allied.core.schemas import Amount, Input, Money

Sku = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._/-]+$")
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"\S")]
Barcode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"\S")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]

# The default of a field a partial update may leave out: `exclude_unset` tells sent from unsent, and since the
# field's type is not optional an explicit null is refused. (Typed Any so that `Field(default=…)` type-checks.)
NOT_SENT: Any = None

# The writable fields of a product, in the order of the CSV columns.
PRODUCT_FIELDS = (
    "sku",
    "name",
    "barcodes",
    "weight_grams",
    "length_mm",
    "width_mm",
    "height_mm",
    "declared_value",
    "currency",
    "tracks_lots",
    "tracks_expiry",
    "is_active",
)


class ProductSchema(Schema):
    id: int = Field(examples=[1042])
    sku: str = Field(examples=["TEE-BLK-M"])
    name: str = Field(examples=["Black tee, medium"])
    barcodes: list[str] = Field(examples=[["4006381333931"]])
    weight_grams: int = Field(examples=[180])
    length_mm: int = Field(examples=[300])
    width_mm: int = Field(examples=[220])
    height_mm: int = Field(examples=[20])
    declared_value: Amount = Field(examples=["1500.00"])
    currency: str = Field(examples=["PKR"])
    tracks_lots: bool = Field(examples=[False])
    tracks_expiry: bool = Field(examples=[False])
    is_active: bool = Field(examples=[True])


class ProductPageSchema(Schema):
    items: list[ProductSchema]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last page.")


class ProductCreateSchema(Input):
    sku: Sku = Field(examples=["TEE-BLK-M"], description="Unique within your organization.")
    name: Name = Field(examples=["Black tee, medium"])
    barcodes: list[Barcode] = Field(default=[], max_length=20, examples=[["4006381333931"]])
    weight_grams: int = Field(default=0, ge=0, le=1_000_000, examples=[180])
    length_mm: int = Field(default=0, ge=0, le=10_000, examples=[300])
    width_mm: int = Field(default=0, ge=0, le=10_000, examples=[220])
    height_mm: int = Field(default=0, ge=0, le=10_000, examples=[20])
    declared_value: Money = Field(default=Decimal("0"), examples=["1500.00"])
    currency: Currency = Field(default="PKR", examples=["PKR"])
    tracks_lots: bool = False
    tracks_expiry: bool = False


class ProductUpsertSchema(ProductCreateSchema):
    """A product as the bulk API, the CSV import and the product form describe it: one validation path."""

    is_active: bool = Field(
        default=True, description="False retires the product; it stays in the catalog (there is no delete)."
    )


class ProductUpdateSchema(Input):
    """A partial update: only the fields you send change. `null` is not a value for any field."""

    sku: Sku = Field(default=NOT_SENT, examples=["TEE-BLK-M"], description="Unique within your organization.")
    name: Name = Field(default=NOT_SENT, examples=["Black tee, medium"])
    barcodes: list[Barcode] = Field(default=NOT_SENT, max_length=20, examples=[["4006381333931"]])
    weight_grams: int = Field(default=NOT_SENT, ge=0, le=1_000_000, examples=[200])
    length_mm: int = Field(default=NOT_SENT, ge=0, le=10_000)
    width_mm: int = Field(default=NOT_SENT, ge=0, le=10_000)
    height_mm: int = Field(default=NOT_SENT, ge=0, le=10_000)
    declared_value: Money = Field(default=NOT_SENT, examples=["1750.00"])
    currency: Currency = Field(default=NOT_SENT, examples=["PKR"])
    tracks_lots: bool = Field(default=NOT_SENT)
    tracks_expiry: bool = Field(default=NOT_SENT)
    is_active: bool = Field(default=NOT_SENT, examples=[False])


class ProductBulkItemSchema(ProductUpsertSchema):
    name: Name = Field(
        default=NOT_SENT, examples=["Black tee, medium"], description="Required for a SKU you do not have yet."
    )


class ProductBulkUpsertSchema(Input):
    items: list[ProductBulkItemSchema] = Field(
        min_length=1,
        max_length=500,
        description="Up to 500 products, each SKU at most once. Fields you leave out keep their current value "
        "on an existing product and take their default on a new one.",
    )


class ProductBulkResultSchema(Schema):
    created: int = Field(description="Products that did not exist before.", examples=[1])
    updated: int = Field(description="Existing products with at least one changed field.", examples=[1])
    unchanged: int = Field(description="Existing products that already matched.", examples=[0])
    items: list[ProductSchema] = Field(description="Every product of the request, in the order sent.")


_FRIENDLY_MESSAGES = {
    ("sku", "string_pattern_mismatch"): "Use only letters, digits and . _ / - (no spaces).",
    ("currency", "string_pattern_mismatch"): "Use a three-letter currency code in capitals, such as PKR.",
    ("declared_value", "decimal_max_places"): "Use at most two decimal places.",
    ("barcodes", "too_long"): "At most 20 barcodes.",
    ("*", "bool_parsing"): "Use yes or no.",
    ("*", "int_parsing"): "Use a whole number, such as 180.",
    ("*", "int_from_float"): "Use a whole number, such as 180.",
    ("*", "decimal_parsing"): "Use a number, such as 1500.00.",
    ("*", "greater_than_equal"): "Use 0 or more.",
}


def schema_field_errors(error: PydanticValidationError) -> list[FieldError]:
    """Pydantic's errors as field errors named by their top-level field, in words people can act on."""
    field_errors = []
    for item in error.errors():
        location = item.get("loc", ())
        field = str(location[0]) if location else ""
        message = _FRIENDLY_MESSAGES.get((field, item["type"])) or _FRIENDLY_MESSAGES.get(
            ("*", item["type"]), item["msg"]
        )
        if field == "barcodes" and len(location) > 1 and isinstance(location[1], int):
            message = f"Barcode {location[1] + 1}: {message}"
        field_errors.append(FieldError(field, message, item["type"]))
    return field_errors
