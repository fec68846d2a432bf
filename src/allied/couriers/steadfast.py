"""Steadfast Courier, through its API v1 (base `https://portal.packzy.com/api/v1`). Steadfast publishes
no sandbox: `sandbox` changes nothing.

The contract, and where it was read:

* Every request carries the headers `Api-Key` and `Secret-Key` from the merchant panel.
* Booking: `POST /create_order` with `invoice` (unique; letters, digits, hyphens, underscores),
  `recipient_name` (≤ 100), `recipient_phone` (11 digits), `recipient_address` (≤ 250), `cod_amount`
  (≥ 0), and optional `alternative_phone`, `recipient_email`, `note`, `item_description`,
  `total_lot`, `delivery_type` (0 home, 1 point). It answers `{"status": 200, "message":
  "Consignment has been created successfully.", "consignment": {"consignment_id", "invoice",
  "tracking_code", "status": "in_review", ...}}`. A refusal carries the same envelope with its own
  `status` (400) and `errors: {field: [messages]}`, and integrators report both HTTP 200 and HTTP 400
  around it: the body's `status` is what this module believes.
* Status: `GET /status_by_cid/{id}`, `/status_by_invoice/{invoice}`, `/status_by_trackingcode/{code}`
  answer `{"status": 200, "delivery_status": ...}`, one of pending, delivered_approval_pending,
  partial_delivered_approval_pending, cancelled_approval_pending, unknown_approval_pending,
  delivered, partial_delivered, cancelled, hold, in_review, unknown. No time and no history.
* Returns: `POST /create_return_request` with `consignment_id` (or `invoice`, `tracking_code`) and
  `reason` answers the request `{id, consignment_id, reason, status: "pending", ...}`.
* Cancelling: the API has no cancel endpoint; a parcel is cancelled from the merchant panel.
* Webhooks (the panel's "Webhook" page: a callback URL and an "Auth Token (Bearer)"): POST JSON with
  `Authorization: Bearer <that token>`; `notification_type` "delivery_status" (`consignment_id`,
  `invoice`, `cod_amount`, `status`, `delivery_charge`, `tracking_message`, `updated_at`
  "YYYY-MM-DD HH:MM:SS", no zone: read as Dhaka's, like Pathao's) or "tracking_update" (`consignment_id`, `invoice`,
  `tracking_message`, `updated_at`). The answer is 200 `{"status": "success", "message": "Webhook
  received successfully."}`.

Steadfast's own document is a page its merchant panel links to; what is above was read from copies of it
and from clients written against it: https://github.com/mojnomiya/steadfast-python
(`docs/steadfast_api_docs.md`), https://www.npmjs.com/package/steadfast-courier-sdk (`types.d.ts`
lists the delivery statuses), and a merchant's copy of the panel's webhook page kept in a public
repository (the payloads, the bearer token, the expected answer).

Credentials: `api_key`, `secret_key`, `webhook_token` (and `previous_webhook_token` while the panel
is changed over).
"""

import hmac
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
from django.utils import timezone

from allied.core.outbound import OutboundError, OutboundHttp
from allied.core.tracking import TrackingStatus
from allied.couriers.base import (
    PARCEL_PURPOSE,
    PARCEL_SHARES,
    RECIPIENT_CATEGORY,
    Booking,
    CourierCredentials,
    CourierError,
    CourierEvent,
    CourierParcel,
    CourierWebhookRefused,
    WebhookReply,
    bangladesh_phone,
    courier_adapter,
    decimal_or_none,
    field_errors,
    json_object,
    lower_headers,
    remote_body,
    render_label,
    whole_or_decimal,
)

STEADFAST_BASE_URL = "https://portal.packzy.com/api/v1"
DHAKA = ZoneInfo("Asia/Dhaka")
NAME = "Steadfast"
DELIVERY_HOME = 0

# Steadfast's delivery statuses on the one status model. "pending" covers everything from acceptance
# to the door (Steadfast publishes nothing finer; its tracking messages say where). A "cancelled"
# parcel is one the recipient refused: it travels back. "unknown" stays unknown.
STATUSES: dict[str, TrackingStatus | None] = {
    "in_review": TrackingStatus.CREATED,
    "pending": TrackingStatus.IN_TRANSIT,
    "hold": TrackingStatus.RESCHEDULED,
    "delivered_approval_pending": TrackingStatus.DELIVERED,
    "partial_delivered_approval_pending": TrackingStatus.DELIVERED,
    "delivered": TrackingStatus.DELIVERED,
    "partial_delivered": TrackingStatus.DELIVERED,
    "cancelled_approval_pending": TrackingStatus.RETURN_TO_ORIGIN,
    "cancelled": TrackingStatus.RETURN_TO_ORIGIN,
    "unknown_approval_pending": None,
    "unknown": None,
}

FIELD_NAMES = {
    "invoice": "merchant_order_ref",
    "recipient_name": "recipient_name",
    "recipient_phone": "phone",
    "recipient_address": "address",
    "cod_amount": "cod_amount",
    "note": "instructions",
    "item_description": "item_description",
    "total_lot": "parcels",
}


def steadfast_status(raw: str) -> TrackingStatus | None:
    return STATUSES.get(raw.strip().lower().replace(" ", "_"))


@courier_adapter("steadfast")
class SteadfastAdapter:
    code: ClassVar[str] = "steadfast"
    name: ClassVar[str] = NAME
    required = ("api_key", "secret_key")

    def __init__(
        self,
        credentials: CourierCredentials,
        *,
        organization_id: int,
        sandbox: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        on_credentials_changed: Callable[[dict[str, str]], None] | None = None,
    ) -> None:
        self.credentials = dict(credentials)
        self.organization_id = organization_id
        self.http = OutboundHttp(
            base_url=STEADFAST_BASE_URL,
            organization_id=organization_id,
            recipient_category=RECIPIENT_CATEGORY,
            headers={
                "Accept": "application/json",
                "Api-Key": self.credentials.get("api_key", ""),
                "Secret-Key": self.credentials.get("secret_key", ""),
            },
            sleep=sleep,
        )

    def close(self) -> None:
        self.http.close()

    def _call(
        self, method: str, path: str, *, doing: str, json: Any = None, shares: tuple[str, ...] = (), reference: str = ""
    ) -> dict[str, Any]:
        """One request; Steadfast's envelope is checked as well as the HTTP status."""
        missing = [name for name in self.required if not self.credentials.get(name)]
        if missing:
            raise CourierError(f"Steadfast is not connected: missing {', '.join(missing)}.", courier=NAME)
        try:
            response = self.http.request(
                method, path, json=json, shares=shares, purpose=PARCEL_PURPOSE, reference=reference
            )
        except OutboundError as error:
            raise _refusal(remote_body(error), doing, error.status, error.retry_after, str(error)) from error
        answer = _json(response)
        envelope = answer.get("status")
        if isinstance(envelope, int) and envelope >= 300:
            raise _refusal(answer, doing, envelope, None, "")
        return answer

    def book(self, parcel: CourierParcel) -> Booking:
        payload = {
            "invoice": parcel.merchant_order_ref,
            "recipient_name": parcel.recipient_name,
            "recipient_phone": bangladesh_phone(parcel.phone),
            "recipient_address": parcel.full_address,
            "cod_amount": whole_or_decimal(parcel.cod_amount),
            "note": parcel.instructions,
            "item_description": parcel.item_description,
            "total_lot": parcel.parcels,
            "delivery_type": DELIVERY_HOME,
        }
        answer = self._call(
            "POST",
            "/create_order",
            doing=f"Steadfast refused to book {parcel.merchant_order_ref}",
            json=payload,
            shares=PARCEL_SHARES,
            reference=parcel.merchant_order_ref,
        )
        consignment = answer.get("consignment")
        if not isinstance(consignment, dict) or not consignment.get("consignment_id"):
            raise CourierError(
                f"Steadfast answered the booking of {parcel.merchant_order_ref} without a consignment.", courier=NAME
            )
        raw = str(consignment.get("status") or "in_review")
        return Booking(
            consignment_id=str(consignment["consignment_id"]),
            tracking_code=str(consignment.get("tracking_code") or consignment["consignment_id"]),
            raw_status=raw,
            status=steadfast_status(raw),
            delivery_fee=None,  # Steadfast says the charge only in its webhooks
        )

    def label_pdf(self, booking: Booking, parcel: CourierParcel) -> bytes:
        return render_label(courier=NAME, booking=booking, parcel=parcel)

    def cancel(self, consignment_id: str) -> None:
        raise CourierError(
            f"Steadfast's API cannot cancel a consignment: cancel {consignment_id} in the Steadfast merchant "
            "panel (steadfast.com.bd) or ask its support.",
            courier=NAME,
        )

    def track(self, consignment_id: str) -> list[CourierEvent]:
        """Steadfast's current status; it gives no time, so the event is dated when it was read."""
        answer = self._call(
            "GET", f"/status_by_cid/{_segment(consignment_id)}", doing=f"Steadfast could not track {consignment_id}"
        )
        raw = str(answer.get("delivery_status") or "")
        return [
            CourierEvent(
                consignment_id=consignment_id,
                status=steadfast_status(raw),
                raw_status=raw,
                occurred_at=timezone.now(),
            )
        ]

    def balance(self) -> Decimal:
        """The merchant's balance with Steadfast: the cheapest call that proves the keys work."""
        answer = self._call("GET", "/get_balance", doing="Steadfast refused the API keys")
        return decimal_or_none(answer.get("current_balance")) or Decimal("0")

    def request_return(self, consignment_id: str, *, reason: str = "") -> str:
        """Ask Steadfast to bring a consignment back; the answer is Steadfast's return request id."""
        body: dict[str, Any] = {"consignment_id": int(consignment_id) if consignment_id.isdigit() else consignment_id}
        if reason:
            body["reason"] = reason
        answer = self._call(
            "POST", "/create_return_request", doing=f"Steadfast refused to return {consignment_id}", json=body
        )
        return str(answer.get("id") or "")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[CourierEvent]:
        """Steadfast's delivery, once its bearer token is the one set in its panel."""
        tokens = [
            t for t in (self.credentials.get("webhook_token"), self.credentials.get("previous_webhook_token")) if t
        ]
        if not tokens:
            raise CourierWebhookRefused("No Steadfast webhook token is set for this connection.")
        scheme, _, given = lower_headers(headers).get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not any(
            hmac.compare_digest(given.strip().encode(), token.encode()) for token in tokens
        ):
            raise CourierWebhookRefused("The bearer token of this Steadfast delivery is not the connection's.")
        payload = json_object(body, courier=NAME)
        consignment = str(payload.get("consignment_id") or "")
        if not consignment:
            raise CourierWebhookRefused("Steadfast's delivery names no consignment.")
        kind = str(payload.get("notification_type") or "")
        when = _when(payload.get("updated_at"))
        message = str(payload.get("tracking_message") or "")
        reference = str(payload.get("invoice") or "")
        if kind != "delivery_status":
            # A tracking message (or a kind Steadfast adds later): words, no change of status.
            raw = "" if kind == "tracking_update" else kind
            return [CourierEvent(consignment, None, raw, when, message=message, merchant_order_ref=reference)]
        raw = str(payload.get("status") or "")
        status = steadfast_status(raw)
        collected = decimal_or_none(payload.get("cod_amount")) if status == TrackingStatus.DELIVERED else None
        return [
            CourierEvent(
                consignment_id=consignment,
                status=status,
                raw_status=raw,
                occurred_at=when,
                message=message,
                cod_collected=collected,
                merchant_order_ref=reference,
            )
        ]

    def webhook_reply(self) -> WebhookReply:
        return WebhookReply(
            status=200, headers={}, body={"status": "success", "message": "Webhook received successfully."}
        )


def _refusal(body: Any, doing: str, status: int | None, retry_after: float | None, fallback: str) -> CourierError:
    message = ""
    errors = []
    if isinstance(body, dict):
        message = str(body.get("message") or "")
        errors = field_errors(body.get("errors"), FIELD_NAMES)
        if not message and errors:
            message = "; ".join(f"{e.field}: {e.message}" for e in errors)
    return CourierError(
        f"{doing}: {message or fallback or 'no reason given'}",
        courier=NAME,
        errors=errors,
        remote_status=status,
        retry_after=retry_after,
    )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError as error:
        raise CourierError(
            f"Steadfast answered {response.status_code} with something other than JSON.", courier=NAME
        ) from error
    if not isinstance(answer, dict):
        raise CourierError(
            f"Steadfast answered {response.status_code} with something other than an object.", courier=NAME
        )
    return answer


def _segment(value: str) -> str:
    """An identifier in a path stays one path segment, whatever it contains."""
    return quote(value, safe="")


def _when(updated_at: Any) -> datetime:
    """Steadfast's `updated_at`, in Dhaka's local time; now when it is missing or unreadable."""
    if updated_at:
        try:
            moment = datetime.fromisoformat(str(updated_at))
        except ValueError:
            return timezone.now()
        return moment if moment.tzinfo else moment.replace(tzinfo=DHAKA)
    return timezone.now()
