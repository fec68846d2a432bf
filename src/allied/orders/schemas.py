from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import (
    AfterValidator,
    AliasPath,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    WithJsonSchema,
)

from allied.core.contact import email_text
from allied.core.schemas import Amount, DateTime, Input, Latitude, Longitude, Money

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Required = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"\S")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class RecipientIn(Input):
    name: Required = Field(examples=["Hina Baig"])
    phone: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=32)] = Field(
        examples=["+92 300 1112233"],
        description="International (+92 300 1112233) or as dialled in your organization's default country "
        "(0300 1112233); answered in E.164 (+923001112233). A number not valid there answers 422 invalid_phone.",
    )
    email: Annotated[
        str,
        StringConstraints(strip_whitespace=True, max_length=254),
        AfterValidator(email_text),
        WithJsonSchema(
            {"anyOf": [{"type": "string", "format": "email", "maxLength": 254}, {"type": "string", "maxLength": 0}]}
        ),
    ] = Field(default="", examples=["hina@example.com"], description="Optional; checked when given.")


class AddressIn(Input):
    line1: Required = Field(examples=["House 12, Street 4, Block 7"])
    line2: Text = ""
    area: Text = Field(default="", examples=["Gulshan-e-Iqbal"])
    city: Required = Field(examples=["Karachi"])
    region: Text = Field(default="", examples=["Sindh"])
    postcode: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] = ""
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = "PK"
    lat: Latitude | None = None
    lng: Longitude | None = None


class LineIn(Input):
    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"\S")] = Field(
        examples=["TEE-BLK-M"]
    )
    quantity: int = Field(gt=0, le=10_000, examples=[2])
    unit_price: Money = Field(examples=["1500.00"])
    currency: Currency | None = Field(default=None, description="Optional; must equal the order's currency.")


class PaymentIn(Input):
    method: Literal["prepaid", "cod"] = Field(examples=["cod"])
    cod_amount: Money = Field(default=Decimal("0"), examples=["3200.00"])


class WindowIn(Input):
    start: DateTime = Field(examples=["2026-01-31T14:00:00+05:00"])
    end: DateTime = Field(examples=["2026-01-31T18:00:00+05:00"])


class OrderCreateSchema(Input):
    external_id: Required = Field(
        description="Your id for the order; sending it again returns the same order.", examples=["SHOP-10023"]
    )
    channel: Literal["api", "manual", "marketplace"] = "api"
    recipient: RecipientIn
    shipping_address: AddressIn
    lines: list[LineIn] = Field(min_length=1, max_length=200)
    currency: Currency = Field(examples=["PKR"])
    shipping_fee: Money = Decimal("0")
    payment: PaymentIn
    delivery_window: WindowIn | None = None
    notes: Annotated[str, StringConstraints(max_length=2000)] = ""
    tags: list[Annotated[str, StringConstraints(min_length=1, max_length=40)]] = Field(default=[], max_length=20)


class Out(BaseModel):
    """Output read from model instances by pydantic itself: quicker on the hottest answer (the
    201 of an order intake) than ninja's Schema, which wraps every object it reads."""

    model_config = ConfigDict(from_attributes=True)


def _all(related: Any) -> Any:
    """A related manager (order.lines) as its list; prefetched or remembered rows cost no query."""
    return list(related.all()) if hasattr(related, "all") else related


class OrderLineOut(Out):
    sku: str
    name: str
    quantity: int
    unit_price: Amount
    allocated_quantity: int
    picked_quantity: int
    packed_quantity: int


class OrderEventOut(Out):
    type: str
    from_status: str
    to_status: str
    at: datetime


class AddressOut(Out):
    """The address as it was given (`AddressIn`), with where its coordinates came from."""

    line1: str
    line2: str
    area: str
    city: str
    region: str
    postcode: str
    country: str
    lat: float | None
    lng: float | None
    coordinates_source: Literal["", "given", "geocoded", "pin"] = Field(
        description="Where the coordinates came from: given by the sender, geocoded, or a pin an operator placed."
    )


class OrderOut(Out):
    id: int
    number: str = Field(examples=["KQ7M-2XPD"])
    channel: str
    external_id: str
    status: str = Field(examples=["allocated"])
    warehouse: str = Field(validation_alias=AliasPath("warehouse", "code"))
    recipient_name: str
    recipient_phone: str
    recipient_email: str
    shipping_address: AddressOut = Field(validation_alias="address")
    currency: str
    subtotal: Amount
    shipping_fee: Amount
    total: Amount
    payment_method: str
    cod_amount: Amount
    window_start: datetime | None
    window_end: datetime | None
    notes: str
    tags: list[str]
    carrier: str = Field(
        examples=["tcs"], description="The carrier's code (empty until handed over); see `carrier_name`."
    )
    carrier_name: str = Field(examples=["TCS"], description="The carrier's name, for people.")
    tracking_code: str = Field(examples=["AES-7K2M-9QXH-4RTB-8"])
    created_at: datetime
    lines: Annotated[list[OrderLineOut], BeforeValidator(_all)]


class OrderDetailOut(OrderOut):
    events: Annotated[list[OrderEventOut], BeforeValidator(_all)]


class OrderPageOut(Schema):
    items: list[OrderOut]
    next_cursor: str | None


class CancelIn(Input):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = Field(
        default="", examples=["Customer cancelled"]
    )
