"""Pathao Courier, through its Merchant API ("Aladdin", https://merchant.pathao.com/courier/developer-api).

The contract, and where it was read:

* Hosts: `https://api-hermes.pathao.com` (live), `https://courier-api-sandbox.pathao.com` (sandbox) —
  Pathao's own WooCommerce plugin, https://github.com/pathao-eng/courier-woocommerce-plugin
  (`pathao-bridge.php`, `get_base_url`).
* Tokens: `POST /aladdin/api/v1/issue-token` with `client_id`, `client_secret` and either
  `grant_type=password` + `username` + `password`, or `grant_type=refresh_token` + `refresh_token`;
  the answer is OAuth's `token_type`, `expires_in`, `access_token`, `refresh_token` (the developer-API
  page; the same calls in https://github.com/codeboxrcodehub/pathao-courier `src/Apis/BaseApi.php`).
  The merchant's password is used once, at connect, and is neither stored nor returned.
* Booking: `POST /aladdin/api/v1/orders` (`store_id`, `merchant_order_id`, `recipient_name`,
  `recipient_phone` 11 digits, `recipient_address`, optional `recipient_city`/`zone`/`area` ids — left
  out here, Pathao places the address itself —, `delivery_type` 48 normal / 12 on demand, `item_type`
  1 document / 2 parcel, `item_quantity`, `item_weight` kg 0.5–10, `amount_to_collect`,
  `item_description`, `special_instruction`) answers `{"type": "success", "code": 200, "data":
  {"consignment_id", "merchant_order_id", "order_status", "delivery_fee"}}`; a validation refusal is
  422 `{"message", "type": "error", "code": 422, "errors": {field: [messages]}}` (plugin `makeDto`,
  codeboxr `BaseApi::send`).
* Tracking: `GET /aladdin/api/v1/orders/{consignment_id}/info` answers `data.order_status`,
  `order_status_slug`, `updated_at` (Dhaka time): the current status only, no history.
* Cancelling: the published API has no cancel endpoint (a third-party package calls an undocumented
  `POST /orders/{id}/cancel`; we do not rely on it). `cancel` says so: the merchant asks Pathao.
* Webhooks (the developer-API page's webhook section, and the plugin's `plugin-api.php`): a POST with
  JSON `{consignment_id, merchant_order_id, updated_at (Dhaka), timestamp (ISO, UTC), store_id, event,
  delivery_fee?, collected_amount?, reason?}` and header `X-PATHAO-Signature` carrying the secret the
  merchant typed into the panel, verbatim (not an HMAC of the body). Events: `order.created`,
  `order.updated`, `order.pickup-requested`, `order.assigned-for-pickup`, `order.picked`,
  `order.pickup-failed`, `order.pickup-cancelled`, `order.at-the-sorting-hub`, `order.in-transit`,
  `order.received-at-last-mile-hub`, `order.assigned-for-delivery`, `order.delivered`,
  `order.partial-delivery`, `order.returned`, `order.delivery-failed`, `order.on-hold`,
  `order.paid`, `order.paid-return`, `order.exchanged`, `store.created`, `store.updated`, and
  `webhook_integration` when the URL is saved. Every reply must be 202 with header
  `X-Pathao-Merchant-Webhook-Integration-Secret: f3992ecc-59da-4cbe-a049-a13da2018d51` — a constant
  Pathao publishes (its plugin sends it), not the merchant's secret.

Credentials: `client_id`, `client_secret`, `access_token`, `refresh_token`, `store_id`,
`webhook_secret` (and `previous_webhook_secret` while a new one is rolled out in the panel).
"""

import hmac
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
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

PATHAO_BASE_URL = "https://api-hermes.pathao.com"
PATHAO_SANDBOX_URL = "https://courier-api-sandbox.pathao.com"
API = "/aladdin/api/v1"
SIGNATURE_HEADER = "X-PATHAO-Signature"
INTEGRATION_HEADER = "X-Pathao-Merchant-Webhook-Integration-Secret"
INTEGRATION_VALUE = "f3992ecc-59da-4cbe-a049-a13da2018d51"
DHAKA = ZoneInfo("Asia/Dhaka")
DELIVERY_NORMAL = 48
ITEM_PARCEL = 2
NAME = "Pathao"

# Pathao's statuses (the `order_status_slug` of order info, and the event names of webhooks without
# their "order." prefix) on the one status model. Where the slug and the event differ, both are here.
# None: a status that says nothing about where the parcel is (an edit, a payment).
STATUSES: dict[str, TrackingStatus | None] = {
    "pending": TrackingStatus.CREATED,
    "created": TrackingStatus.CREATED,
    "order_created": TrackingStatus.CREATED,
    "updated": None,
    "order_updated": None,
    "pickup_requested": TrackingStatus.PICKUP_SCHEDULED,
    "assigned_for_pickup": TrackingStatus.PICKUP_SCHEDULED,
    "picked": TrackingStatus.PICKED_UP,
    "pickup_failed": TrackingStatus.EXCEPTION,  # the rider left without it: the merchant must act
    "pickup_cancelled": TrackingStatus.CANCELLED,
    "at_the_sorting_hub": TrackingStatus.AT_HUB,
    "in_transit": TrackingStatus.IN_TRANSIT,
    "received_at_last_mile_hub": TrackingStatus.AT_HUB,
    "assigned_for_delivery": TrackingStatus.OUT_FOR_DELIVERY,
    "delivered": TrackingStatus.DELIVERED,
    "partial_delivery": TrackingStatus.DELIVERED,  # handed over, part refused: the raw status says so
    "delivery_failed": TrackingStatus.ATTEMPT_FAILED,
    "on_hold": TrackingStatus.RESCHEDULED,
    "return": TrackingStatus.RETURNED,
    "returned": TrackingStatus.RETURNED,
    "paid_return": TrackingStatus.RETURNED,
    "exchange": TrackingStatus.DELIVERED,
    "exchanged": TrackingStatus.DELIVERED,
    "paid": None,
    "payment_invoice": None,
}

# Pathao's field names on the parcel's, for field-by-field refusals.
FIELD_NAMES = {
    "merchant_order_id": "merchant_order_ref",
    "recipient_name": "recipient_name",
    "recipient_phone": "phone",
    "recipient_address": "address",
    "amount_to_collect": "cod_amount",
    "item_weight": "weight_grams",
    "item_quantity": "parcels",
    "item_description": "item_description",
    "special_instruction": "instructions",
    "store_id": "pickup_reference",
}


def status_key(raw: str) -> str:
    """ "Received at Last Mile HUB", "Received_at_Last_Mile_HUB" and "order.received-at-last-mile-hub"
    are one status."""
    return raw.strip().lower().removeprefix("order.").replace("-", "_").replace(" ", "_")


def pathao_status(raw: str) -> TrackingStatus | None:
    return STATUSES.get(status_key(raw))


def pathao_issue_token(
    base_url: str,
    client_id: str,
    client_secret: str,
    username: str,
    password: str,
    *,
    organization_id: int,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, str]:
    """Exchange the merchant's login for tokens, once, at connect. The answer is the credentials to
    store (client id and secret, access and refresh tokens, when the access token expires): the
    password is not in it and is kept nowhere."""
    body = {
        "client_id": client_id,
        "client_secret": client_secret,
        "grant_type": "password",
        "username": username,
        "password": password,
    }
    return _token_request(base_url, body, organization_id=organization_id, sleep=sleep)


def pathao_refresh_token(
    base_url: str,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    *,
    organization_id: int,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, str]:
    """New tokens for a refresh token (Pathao rotates both)."""
    body = {
        "client_id": client_id,
        "client_secret": client_secret,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
    }
    return _token_request(base_url, body, organization_id=organization_id, sleep=sleep)


def _token_request(
    base_url: str, body: dict[str, str], *, organization_id: int, sleep: Callable[[float], None]
) -> dict[str, str]:
    http = OutboundHttp(
        base_url=base_url,
        organization_id=organization_id,
        recipient_category=RECIPIENT_CATEGORY,
        headers={"Accept": "application/json"},
        sleep=sleep,
    )
    try:
        answer = http.request("POST", f"{API}/issue-token", json=body).json()
    except OutboundError as error:
        raise _refusal(error, "Pathao refused the connection details") from error
    except ValueError as error:
        raise CourierError("Pathao answered the token request with something other than JSON.", courier=NAME) from error
    finally:
        http.close()
    if not isinstance(answer, dict) or not answer.get("access_token"):
        raise CourierError("Pathao's token answer has no access token.", courier=NAME)
    expires_at = timezone.now() + timedelta(seconds=int(answer.get("expires_in") or 0))
    return {
        "client_id": body["client_id"],
        "client_secret": body["client_secret"],
        "access_token": str(answer["access_token"]),
        "refresh_token": str(answer.get("refresh_token") or ""),
        "expires_at": expires_at.isoformat(),
    }


def _refusal(error: OutboundError, doing: str) -> CourierError:
    """Pathao's refusal in its own words, with its field errors on the parcel's field names."""
    body = remote_body(error)
    message = ""
    errors = []
    if isinstance(body, dict):
        message = str(body.get("message") or body.get("error_description") or "")
        errors = field_errors(body.get("errors"), FIELD_NAMES)
    detail = f"{doing}: {message or error}"
    return CourierError(detail, courier=NAME, errors=errors, remote_status=error.status, retry_after=error.retry_after)


@courier_adapter("pathao")
class PathaoAdapter:
    code: ClassVar[str] = "pathao"
    name: ClassVar[str] = NAME
    required = ("client_id", "client_secret", "access_token", "store_id")

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
        self.base_url = PATHAO_SANDBOX_URL if sandbox else PATHAO_BASE_URL
        self.sleep = sleep
        self.on_credentials_changed = on_credentials_changed
        self.http = OutboundHttp(
            base_url=self.base_url,
            organization_id=organization_id,
            recipient_category=RECIPIENT_CATEGORY,
            headers={"Accept": "application/json"},
            sleep=sleep,
        )
        self._authorize()

    def _authorize(self) -> None:
        self.http.client.headers["Authorization"] = f"Bearer {self.credentials.get('access_token', '')}"

    def close(self) -> None:
        self.http.close()

    # Talking to Pathao -----------------------------------------------------------------------

    def _call(
        self, method: str, path: str, *, doing: str, json: Any = None, shares: tuple[str, ...] = (), reference: str = ""
    ) -> Any:
        """One request; an access token Pathao no longer accepts is refreshed once and the request sent
        again. The parcel then went out twice, so the sharing register has a row for each sending."""
        missing = [name for name in self.required if not self.credentials.get(name)]
        if missing:
            raise CourierError(f"Pathao is not connected: missing {', '.join(missing)}.", courier=NAME)
        refreshed = False
        while True:
            try:
                response = self.http.request(
                    method, path, json=json, shares=shares, purpose=PARCEL_PURPOSE, reference=reference
                )
            except OutboundError as error:
                if error.status == 401 and not refreshed and self.credentials.get("refresh_token"):
                    self.refresh()
                    refreshed = True
                    continue
                raise _refusal(error, doing) from error
            return _json(response)

    def refresh(self) -> None:
        """Swap the refresh token for new tokens, and hand the new credentials to the caller to store."""
        try:
            tokens = pathao_refresh_token(
                self.base_url,
                self.credentials["client_id"],
                self.credentials["client_secret"],
                self.credentials.get("refresh_token", ""),
                organization_id=self.organization_id,
                sleep=self.sleep,
            )
        except CourierError as error:
            raise CourierError(
                f"Pathao no longer accepts Allied's tokens; connect Pathao again ({error.detail}).",
                courier=NAME,
                remote_status=error.remote_status,
            ) from error
        self.credentials.update(tokens)
        self._authorize()
        if self.on_credentials_changed is not None:
            self.on_credentials_changed(dict(self.credentials))

    # The adapter -------------------------------------------------------------------------------

    def book(self, parcel: CourierParcel) -> Booking:
        """Book one consignment. Its tracking code is the consignment id (Pathao has no other)."""
        store = parcel.pickup_reference or self.credentials.get("store_id", "")
        weight_kg = max(Decimal("0.5"), Decimal(parcel.weight_grams) / 1000)  # Pathao's smallest weight
        payload = {
            "store_id": int(store) if store.isdigit() else store,
            "merchant_order_id": parcel.merchant_order_ref,
            "recipient_name": parcel.recipient_name,
            "recipient_phone": bangladesh_phone(parcel.phone),
            "recipient_address": parcel.full_address,
            "delivery_type": DELIVERY_NORMAL,
            "item_type": ITEM_PARCEL,
            "special_instruction": parcel.instructions,
            "item_quantity": parcel.parcels,
            "item_weight": float(round(weight_kg, 2)),
            "amount_to_collect": whole_or_decimal(parcel.cod_amount),
            "item_description": parcel.item_description,
        }
        answer = self._call(
            "POST",
            f"{API}/orders",
            doing=f"Pathao refused to book {parcel.merchant_order_ref}",
            json=payload,
            shares=PARCEL_SHARES,
            reference=parcel.merchant_order_ref,
        )
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, dict) or not data.get("consignment_id"):
            raise CourierError(
                f"Pathao answered the booking of {parcel.merchant_order_ref} without a consignment id.", courier=NAME
            )
        consignment = str(data["consignment_id"])
        raw = str(data.get("order_status") or "Pending")
        return Booking(
            consignment_id=consignment,
            tracking_code=consignment,
            raw_status=raw,
            status=pathao_status(raw),
            delivery_fee=decimal_or_none(data.get("delivery_fee")),
        )

    def label_pdf(self, booking: Booking, parcel: CourierParcel) -> bytes:
        return render_label(courier=NAME, booking=booking, parcel=parcel)

    def cancel(self, consignment_id: str) -> None:
        raise CourierError(
            f"Pathao's merchant API cannot cancel a consignment: ask Pathao to cancel {consignment_id} "
            "in the merchant panel (merchant.pathao.com) or through its support.",
            courier=NAME,
        )

    def track(self, consignment_id: str) -> list[CourierEvent]:
        """Pathao's current status (its API keeps no history to read)."""
        answer = self._call(
            "GET",
            f"{API}/orders/{quote(consignment_id, safe='')}/info",
            doing=f"Pathao could not track {consignment_id}",
        )
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, dict):
            raise CourierError(f"Pathao's answer about {consignment_id} has no data.", courier=NAME)
        raw = str(data.get("order_status_slug") or data.get("order_status") or "")
        return [
            CourierEvent(
                consignment_id=str(data.get("consignment_id") or consignment_id),
                status=pathao_status(raw),
                raw_status=raw,
                occurred_at=_when(data.get("timestamp"), data.get("updated_at")),
                merchant_order_ref=str(data.get("merchant_order_id") or ""),
            )
        ]

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[CourierEvent]:
        """Pathao's delivery, once its `X-PATHAO-Signature` is the secret set in its panel. The
        integration check and store events carry no parcel: no events."""
        secrets = [
            s for s in (self.credentials.get("webhook_secret"), self.credentials.get("previous_webhook_secret")) if s
        ]
        if not secrets:
            raise CourierWebhookRefused("No Pathao webhook secret is set for this connection.")
        given = lower_headers(headers).get(SIGNATURE_HEADER.lower(), "")
        if not given or not any(hmac.compare_digest(given.encode(), secret.encode()) for secret in secrets):
            raise CourierWebhookRefused(
                "The X-PATHAO-Signature of this delivery is not the connection's webhook secret."
            )
        payload = json_object(body, courier=NAME)
        event = str(payload.get("event") or "")
        if not event.startswith("order."):
            return []
        consignment = str(payload.get("consignment_id") or "")
        if not consignment:
            raise CourierWebhookRefused(f"Pathao's {event} names no consignment.")
        status = pathao_status(event)
        return [
            CourierEvent(
                consignment_id=consignment,
                status=status,
                raw_status=event,
                occurred_at=_when(payload.get("timestamp"), payload.get("updated_at")),
                reason=str(payload.get("reason") or ""),
                cod_collected=decimal_or_none(payload.get("collected_amount")),
                merchant_order_ref=str(payload.get("merchant_order_id") or ""),
            )
        ]

    def webhook_reply(self) -> WebhookReply:
        """202 and the integration header on every delivery: Pathao counts anything else as a failure."""
        return WebhookReply(
            status=202,
            headers={INTEGRATION_HEADER: INTEGRATION_VALUE},
            body={"status": 202, "message": "Webhook accepted", "data": None},
        )


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as error:
        raise CourierError(
            f"Pathao answered {response.status_code} with something other than JSON.", courier=NAME
        ) from error


def _when(timestamp: Any, updated_at: Any) -> datetime:
    """When Pathao says it happened: `timestamp` (ISO with an offset) if given, else `updated_at`,
    which is Dhaka's local time; else now."""
    for text, zone in ((timestamp, None), (updated_at, DHAKA)):
        if not text:
            continue
        try:
            moment = datetime.fromisoformat(str(text))
        except ValueError:
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone or DHAKA)
        return moment
    return timezone.now()
