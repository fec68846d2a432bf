"""What every courier adapter speaks: one normalised tracking status, plain dataclasses for a parcel to
book, a booking and a tracking event, the `CourierAdapter` protocol, the errors, and the registry.

A courier is one module: it defines its adapter class, decorates it with `@courier_adapter("code")`,
and maps its own statuses onto `TrackingStatus` in one table. Adapters hold no state worth persisting
except credentials (a refreshed token is handed back through `on_credentials_changed`): the caller owns
every row, so nothing here touches the database except the sharing register `OutboundHttp` writes.

Unknown raw statuses: an adapter maps a status it does not know to `None`, never to a guess. The
event still carries the courier's raw status, so the caller records it (and can alert on it) while
the parcel's normalised status stays where it was; a new status from a courier then changes nothing
until someone adds it to that courier's table.
"""

import io
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Protocol

from allied.core.errors import DomainError, FieldError
from allied.core.outbound import OutboundError
from allied.core.tracking import TrackingStatus

# What a booking shares with the courier (fideslang categories of allied.core.privacy), and why.
PARCEL_SHARES = ("user.name", "user.contact.phone_number", "user.contact.address")
PARCEL_PURPOSE = "last_mile_delivery"
RECIPIENT_CATEGORY = "delivery_partners"  # allied.core.privacy.SERVICE_PROVIDERS

# Tokens and keys an adapter needs, by name (each adapter's module lists its own).
CourierCredentials = Mapping[str, str]


@dataclass(frozen=True)
class CourierParcel:
    """What to book: one consignment, as the caller knows it."""

    merchant_order_ref: str
    recipient_name: str
    phone: str  # E.164, "+8801712345678"
    address: str
    area: str = ""
    city: str = ""
    postcode: str = ""
    cod_amount: Decimal = Decimal("0")
    weight_grams: int = 500
    parcels: int = 1
    item_description: str = ""
    instructions: str = ""
    pickup_reference: str = ""  # the partner's store (Pathao store_id); empty: the adapter's default

    @property
    def full_address(self) -> str:
        parts = [self.address, self.area, self.city, self.postcode]
        return ", ".join(part.strip() for part in parts if part and part.strip())


@dataclass(frozen=True)
class Booking:
    consignment_id: str
    tracking_code: str
    raw_status: str
    status: TrackingStatus | None
    delivery_fee: Decimal | None = None


@dataclass(frozen=True)
class CourierEvent:
    """One thing that happened to a consignment. `status` is None when the courier's raw status is
    not in the adapter's table (or carries no movement, like a payment): record it, change nothing."""

    consignment_id: str
    status: TrackingStatus | None
    raw_status: str
    occurred_at: datetime  # aware
    place: str = ""
    reason: str = ""  # why an attempt failed or the parcel is held, in the courier's words
    message: str = ""  # the courier's own tracking text
    cod_collected: Decimal | None = None
    merchant_order_ref: str = ""


@dataclass(frozen=True)
class WebhookReply:
    """What the webhook endpoint answers the courier once `parse_webhook` accepted a delivery."""

    status: int
    headers: dict[str, str]
    body: dict[str, Any]


class CourierError(DomainError):
    """The courier refused, or could not be reached. `errors` names the parcel's fields the courier
    found invalid, field by field, when it said which."""

    code = "courier_error"
    status = 502
    title = "The courier refused the request or could not be reached"

    def __init__(
        self,
        detail: str,
        *,
        courier: str,
        errors: list[FieldError] | None = None,
        remote_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(detail, errors=errors, courier=courier, remote_status=remote_status)
        self.courier = courier
        self.remote_status = remote_status
        self.retry_after = retry_after

    @property
    def fields(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for error in self.errors:
            found.setdefault(error.field, []).append(error.message)
        return found


class CourierWebhookRefused(DomainError):
    """A webhook delivery did not prove it came from the courier (or could not be read)."""

    code = "courier_webhook_refused"
    status = 401
    title = "The webhook delivery was refused"


class CourierAdapter(Protocol):
    """Booking, labels, cancelling and tracking with one courier company.

    Constructed as `Adapter(credentials, *, organization_id, sandbox=False, sleep=time.sleep,
    on_credentials_changed=None)`: `organization_id` is whose parcels these are (the sharing
    register), `sleep` is how retries wait (tests record it), and `on_credentials_changed` receives
    the whole new credentials mapping when the adapter refreshed a token, for the caller to store.
    """

    code: ClassVar[str]
    name: ClassVar[str]

    def book(self, parcel: CourierParcel) -> Booking: ...

    def label_pdf(self, booking: Booking, parcel: CourierParcel) -> bytes: ...

    def cancel(self, consignment_id: str) -> None: ...

    def track(self, consignment_id: str) -> list[CourierEvent]: ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[CourierEvent]: ...

    def webhook_reply(self) -> WebhookReply: ...

    def close(self) -> None: ...


ADAPTERS: dict[str, type] = {}


def courier_adapter[T: type](code: str) -> Callable[[T], T]:
    """Register an adapter class under its carrier code (allied.core.carriers)."""

    def register(cls: T) -> T:
        if code in ADAPTERS and ADAPTERS[code] is not cls:
            raise ValueError(f"Courier adapter {code!r} is already registered.")
        ADAPTERS[code] = cls
        return cls

    return register


def adapter_for(
    code: str,
    credentials: CourierCredentials,
    *,
    organization_id: int,
    sandbox: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    on_credentials_changed: Callable[[dict[str, str]], None] | None = None,
) -> CourierAdapter:
    """The adapter for a carrier code, ready to use with the partner's credentials."""
    try:
        cls = ADAPTERS[code]
    except KeyError:
        raise LookupError(f"No courier adapter for {code!r}; known: {', '.join(sorted(ADAPTERS))}.") from None
    adapter: CourierAdapter = cls(
        credentials,
        organization_id=organization_id,
        sandbox=sandbox,
        sleep=sleep,
        on_credentials_changed=on_credentials_changed,
    )
    return adapter


# Helpers the adapters share ------------------------------------------------------------------------


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names compared as HTTP compares them (a Django request's headers already are)."""
    return {name.lower(): value for name, value in headers.items()}


def json_object(body: bytes, *, courier: str) -> dict[str, Any]:
    """A webhook body that must be a JSON object."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise CourierWebhookRefused(f"The {courier} webhook body is not JSON.") from error
    if not isinstance(payload, dict):
        raise CourierWebhookRefused(f"The {courier} webhook body is not a JSON object.")
    return payload


def remote_body(error: OutboundError) -> Any:
    """The JSON body of a refusal, read back from `OutboundError`'s message ("host answered 422:
    {...}"); None when there was none or it was cut short."""
    _, separator, text = str(error).partition(": ")
    if not separator:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def field_errors(errors: Any, names: Mapping[str, str]) -> list[FieldError]:
    """A courier's `{"field": ["message", ...]}` as field errors on the parcel's own field names."""
    if not isinstance(errors, Mapping):
        return []
    found = []
    for remote, messages in errors.items():
        for message in messages if isinstance(messages, list) else [messages]:
            found.append(FieldError(names.get(str(remote), str(remote)), str(message), code="courier_invalid"))
    return found


def bangladesh_phone(e164: str) -> str:
    """The 11-digit local number both Bangladeshi couriers ask for ("01712345678"); anything that is
    not a Bangladeshi number is passed on as it is, for the courier to refuse field by field."""
    digits = e164.strip().replace(" ", "").replace("-", "")
    if digits.startswith("+880"):
        return "0" + digits[4:]
    return digits


def decimal_or_none(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def whole_or_decimal(amount: Decimal) -> int | float:
    """An amount for a JSON body: an integer when it is one (couriers count taka in whole numbers)."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


# The label ---------------------------------------------------------------------------------------


def render_label(*, courier: str, booking: Booking, parcel: CourierParcel) -> bytes:
    """An A6 shipping label: neither courier's API returns one. The tracking code is a Code128 barcode;
    the page is left uncompressed (a label is a few kilobytes) so its text can be searched."""
    from reportlab.graphics.barcode.code128 import Code128
    from reportlab.lib.pagesizes import A6
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    width, height = A6
    pdf = Canvas(buffer, pagesize=A6, pageCompression=0, invariant=1)
    pdf.setTitle(f"{courier} {booking.consignment_id}")
    margin = 6 * mm
    y = height - margin - 4 * mm

    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(margin, y, courier)
    pdf.setFont("Helvetica", 8)
    pdf.drawRightString(width - margin, y, f"Order {parcel.merchant_order_ref}")

    y -= 8 * mm
    pdf.setFont("Helvetica", 9)
    pdf.drawString(margin, y, f"Consignment {booking.consignment_id}")
    barcode = Code128(booking.tracking_code, barHeight=16 * mm, barWidth=0.3 * mm, quiet=False)
    if barcode.width > width - 2 * margin:  # a long code: narrower bars, still on the page
        narrower = 0.3 * mm * (width - 2 * margin) / barcode.width
        barcode = Code128(booking.tracking_code, barHeight=16 * mm, barWidth=narrower, quiet=False)
    y -= 18 * mm
    barcode.drawOn(pdf, margin, y)
    y -= 4 * mm
    pdf.setFont("Helvetica", 8)
    pdf.drawString(margin, y, booking.tracking_code)

    y -= 8 * mm
    pdf.setFont("Helvetica-Bold", 8)
    pdf.drawString(margin, y, "TO")
    y -= 5 * mm
    pdf.setFont("Helvetica-Bold", 11)
    pdf.drawString(margin, y, parcel.recipient_name[:40])
    y -= 5 * mm
    pdf.setFont("Helvetica", 9)
    pdf.drawString(margin, y, parcel.phone)
    text = pdf.beginText(margin, y - 5 * mm)
    text.setFont("Helvetica", 9)
    for line in _wrap(parcel.full_address, 52)[:5]:
        text.textLine(line)
    pdf.drawText(text)

    y = margin + 14 * mm
    pdf.line(margin, y + 4 * mm, width - margin, y + 4 * mm)
    pdf.setFont("Helvetica-Bold", 12)
    pdf.drawString(margin, y, f"COD BDT {parcel.cod_amount:.2f}")
    pdf.setFont("Helvetica", 9)
    weight = Decimal(parcel.weight_grams) / 1000
    pdf.drawRightString(width - margin, y, f"{weight:.2f} kg  ·  {parcel.parcels} pc")
    if parcel.instructions:
        pdf.setFont("Helvetica-Oblique", 7)
        pdf.drawString(margin, y - 6 * mm, parcel.instructions[:70])
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        lines.append(current)
    return lines
