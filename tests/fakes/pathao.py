"""Pathao's Merchant API standing in for the real one: a local HTTP server answering `/aladdin/api/v1`
as allied.couriers.pathao documents it (OAuth tokens issued and refreshed with Laravel Passport's error
shapes, bearer tokens checked, orders validated with 422 and `errors` per field, order info), and
Pathao delivering webhooks with the merchant's secret in `X-PATHAO-Signature`.

`fake_pathao` (fixture): a running `FakePathao` whose API answers for `PATHAO_BASE_URL`
(settings.ALLIED_API_ORIGINS points there); `CREDENTIALS` is the merchant's account.

What a test arranges: `advance(consignment_id, event)` moves a parcel on (an event name such as
"order.delivered", delivered as a webhook to `webhook_url` through `target`, when set),
`fail_next(status, retry_after=None)` (the next request answers that status), `expire_tokens()`
(every access token issued so far stops working, as after `expires_in`).
"""

import itertools
import json
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from allied.couriers.pathao import API, PATHAO_BASE_URL, SIGNATURE_HEADER
from tests.fakes.serving import Delivery, Received, json_api_served

CREDENTIALS = {
    "client_id": "7N1aMJQbWm",
    "client_secret": "wRcaibZkUdSNz2EI9ZyuXLlNrnAv0TdPUPXMnD39",
    "username": "merchant@kohsar.example",
    "password": "lovePathao-5678",
    "store_id": "130820",
    "webhook_secret": "pathao-webhook-secret-1234",
}
START = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
DHAKA = timedelta(hours=6)
EXPIRES_IN = 432000  # five days, as Pathao issues them

# Pathao's own table (its plugin's `orderEventsStatusMap`): the `order_status` an event leaves.
EVENT_STATUS = {
    "order.created": "Order_Created",
    "order.updated": "Order_Updated",
    "order.pickup-requested": "Pickup_Requested",
    "order.assigned-for-pickup": "Assigned_for_Pickup",
    "order.picked": "Picked",
    "order.pickup-failed": "Pickup_Failed",
    "order.pickup-cancelled": "Pickup_Cancelled",
    "order.at-the-sorting-hub": "At_the_Sorting_HUB",
    "order.in-transit": "In_Transit",
    "order.received-at-last-mile-hub": "Received_at_Last_Mile_HUB",
    "order.assigned-for-delivery": "Assigned_for_Delivery",
    "order.delivered": "Delivered",
    "order.partial-delivery": "Partial_Delivery",
    "order.returned": "Return",
    "order.delivery-failed": "Delivery_Failed",
    "order.on-hold": "On_Hold",
    "order.paid-return": "paid_return",
    "order.exchanged": "exchange",
    "order.paid": "Payment_Invoice",
}

Target = Callable[[str, dict[str, str], bytes], int]


def http_target(url: str, headers: dict[str, str], body: bytes) -> int:
    try:
        return httpx.post(url, content=body, headers=headers, timeout=10).status_code
    except httpx.HTTPError:
        return 0


class Refusal(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message", ""))
        self.status, self.body = status, body


def pathao_error(status: int, message: str, **extra: Any) -> Refusal:
    return Refusal(status, {"message": message, "type": "error", "code": status, **extra})


@dataclass
class FakePathao:
    """Its state (`orders`, `access_tokens`, `refresh_tokens`) may be read and changed by tests;
    `received` lists the API requests, `deliveries` the webhooks sent."""

    credentials: dict[str, str] = field(default_factory=lambda: dict(CREDENTIALS))
    stores: set[str] = field(default_factory=lambda: {CREDENTIALS["store_id"]})
    webhook_url: str = ""
    target: Target = http_target
    origin: str = ""
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    failures: list[tuple[int, float | None]] = field(default_factory=list)
    now: datetime = START
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1001))

    # What a test arranges -------------------------------------------------------------------

    def tick(self) -> datetime:
        self.now += timedelta(minutes=7)
        return self.now

    def fail_next(self, status: int, retry_after: float | None = None) -> None:
        """The next request (whatever it is) answers `status`, with `Retry-After` when given."""
        self.failures.append((status, retry_after))

    def expire_tokens(self) -> None:
        """Every access token issued so far is refused from now on; refresh tokens still work."""
        self.access_tokens.clear()

    def issue_tokens(self) -> dict[str, Any]:
        """Tokens as if the merchant had connected already (for tests that start connected)."""
        with self.lock:
            return self._tokens()

    def advance(self, consignment_id: str, event: str, **extra: Any) -> Delivery | None:
        """Pathao moves the parcel on: its status changes, and the event's webhook is delivered when a
        `webhook_url` is set (`extra`: `collected_amount`, `reason`, ...)."""
        with self.lock:
            order = self.orders[consignment_id]
            at = self.tick()
            order["order_status"] = EVENT_STATUS.get(event, order["order_status"])
            order["updated_at"] = at
            payload = {
                "consignment_id": consignment_id,
                "merchant_order_id": order["merchant_order_id"],
                "updated_at": (at + DHAKA).strftime("%Y-%m-%d %H:%M:%S"),
                "timestamp": at.isoformat(timespec="seconds"),
                "store_id": int(order["store_id"]),
                "event": event,
                **extra,
            }
            if event in {"order.created", "order.updated", "order.pickup-requested"}:
                payload["delivery_fee"] = order["delivery_fee"]
        return self.deliver(payload) if self.webhook_url else None

    def integration_check(self) -> Delivery:
        """What Pathao sends when the merchant saves the callback URL in its panel."""
        return self.deliver({"event": "webhook_integration"})

    def deliver(self, payload: dict[str, Any], *, secret: str | None = None) -> Delivery:
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: self.credentials["webhook_secret"] if secret is None else secret,
        }
        delivery = Delivery(self.webhook_url, headers, body)
        delivery.status = self.target(self.webhook_url, headers, body)
        with self.lock:
            self.deliveries.append(delivery)
        return delivery

    # The API ------------------------------------------------------------------------------------

    def answer(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], Any]:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        received = Received(method, path, headers, body)
        with self.lock:
            self.received.append(received)
            if self.failures:
                status, retry_after = self.failures.pop(0)
                received.status = status
                extra = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
                message = "Too Many Attempts." if status == 429 else "Server Error"
                return status, extra, {"message": message}
            try:
                status, answer = self._route(method, path, headers, body)
            except Refusal as refusal:
                status, answer = refusal.status, refusal.body
            received.status = status
            return status, {}, answer

    def _route(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        parts = path.removeprefix(API).strip("/").split("/")
        match method, parts:
            case "POST", ["issue-token"]:
                return 200, self._issue(body if isinstance(body, dict) else {})
        self._authenticate(headers.get("authorization", ""))
        match method, parts:
            case "POST", ["orders"]:
                return 200, self._order_create(body if isinstance(body, dict) else {})
            case "GET", ["orders", consignment_id, "info"]:
                return 200, self._order_info(consignment_id)
        raise Refusal(404, {"message": "no Route matched with those values"})

    def _tokens(self) -> dict[str, Any]:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        return {"token_type": "Bearer", "expires_in": EXPIRES_IN, "access_token": access, "refresh_token": refresh}

    def _issue(self, body: dict[str, Any]) -> dict[str, Any]:
        """Laravel Passport's token endpoint: a wrong client is 401, a wrong login or refresh token 400/401."""
        if (
            body.get("client_id") != self.credentials["client_id"]
            or body.get("client_secret") != self.credentials["client_secret"]
        ):
            raise Refusal(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "Client authentication failed",
                    "message": "Client authentication failed",
                },
            )
        grant = body.get("grant_type")
        if grant == "password":
            if (
                body.get("username") != self.credentials["username"]
                or body.get("password") != self.credentials["password"]
            ):
                raise Refusal(
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "The user credentials were incorrect.",
                        "message": "The user credentials were incorrect.",
                    },
                )
            return self._tokens()
        if grant == "refresh_token":
            token = str(body.get("refresh_token") or "")
            if token not in self.refresh_tokens:
                raise Refusal(
                    401,
                    {
                        "error": "invalid_request",
                        "error_description": "The refresh token is invalid.",
                        "hint": "Token has been revoked",
                        "message": "The refresh token is invalid.",
                    },
                )
            self.refresh_tokens.discard(token)  # Passport rotates refresh tokens
            return self._tokens()
        raise Refusal(
            400,
            {
                "error": "unsupported_grant_type",
                "error_description": "The authorization grant type is not supported by the authorization server.",
                "message": "The authorization grant type is not supported by the authorization server.",
            },
        )

    def _authenticate(self, authorization: str) -> None:
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or token not in self.access_tokens:
            raise Refusal(401, {"message": "Unauthenticated."})

    def _order_create(self, body: dict[str, Any]) -> dict[str, Any]:
        errors = self._validate(body)
        if errors:
            raise pathao_error(422, "Please fix the given errors", errors=errors)
        consignment = f"DL{self.now:%d%m%y}{next(self._ids):04d}TJ"
        fee = 60 if float(body["item_weight"]) <= 1 else 80
        self.orders[consignment] = {
            **body,
            "consignment_id": consignment,
            "order_status": "Pending",
            "delivery_fee": fee,
            "updated_at": self.now,
        }
        data = {
            "consignment_id": consignment,
            "merchant_order_id": body.get("merchant_order_id"),
            "order_status": "Pending",
            "delivery_fee": fee,
        }
        return {"message": "Order Created Successfully", "type": "success", "code": 200, "data": data}

    def _validate(self, body: dict[str, Any]) -> dict[str, list[str]]:
        """The published constraints, with Laravel's messages."""
        errors: dict[str, list[str]] = {}

        def text(name: str, label: str, low: int, high: int) -> None:
            value = str(body.get(name) or "")
            if not value:
                errors[name] = [f"The {label} field is required."]
            elif not low <= len(value) <= high:
                errors[name] = [f"The {label} must be between {low} and {high} characters."]

        if str(body.get("store_id") or "") not in self.stores:
            errors["store_id"] = ["The selected store id is invalid."]
        text("recipient_name", "recipient name", 3, 100)
        phone = str(body.get("recipient_phone") or "")
        if not phone:
            errors["recipient_phone"] = ["The recipient phone field is required."]
        elif len(phone) != 11 or not phone.isdigit():
            errors["recipient_phone"] = ["The recipient phone must be 11 characters."]
        text("recipient_address", "recipient address", 10, 220)
        if body.get("delivery_type") not in (48, 12):
            errors["delivery_type"] = ["The selected delivery type is invalid."]
        if body.get("item_type") not in (1, 2):
            errors["item_type"] = ["The selected item type is invalid."]
        if not isinstance(body.get("item_quantity"), int) or body["item_quantity"] < 1:
            errors["item_quantity"] = ["The item quantity must be at least 1."]
        weight = body.get("item_weight")
        if not isinstance(weight, int | float) or not 0.5 <= weight <= 10:
            errors["item_weight"] = ["The item weight must be between 0.5 and 10."]
        amount = body.get("amount_to_collect")
        if amount is None:
            errors["amount_to_collect"] = ["The amount to collect field is required."]
        elif not isinstance(amount, int | float) or amount < 0:
            errors["amount_to_collect"] = ["The amount to collect must be at least 0."]
        return errors

    def _order_info(self, consignment_id: str) -> dict[str, Any]:
        order = self.orders.get(consignment_id)
        if order is None:
            raise pathao_error(404, "Order not found")
        status = order["order_status"]
        data = {
            "consignment_id": consignment_id,
            "merchant_order_id": order.get("merchant_order_id"),
            "order_status": status.replace("_", " "),
            "order_status_slug": status,
            "updated_at": (order["updated_at"] + DHAKA).strftime("%Y-%m-%d %H:%M:%S"),
            "invoice_id": None,
        }
        return {"message": "Order info", "type": "success", "code": 200, "data": data}


def serve(fake: FakePathao) -> ThreadingHTTPServer:
    """The fake's API on 127.0.0.1 (a free port)."""
    server, fake.origin = json_api_served(fake.answer)
    return server


def accepting(url: str, headers: dict[str, str], body: bytes) -> int:
    """A webhook endpoint that accepts everything; what was sent stays in `deliveries`."""
    return 202


@pytest.fixture
def fake_pathao(settings: Any) -> Iterator[FakePathao]:
    fake = FakePathao(webhook_url="https://allied.example/couriers/pathao/webhook", target=accepting)
    server = serve(fake)
    settings.ALLIED_API_ORIGINS = {**settings.ALLIED_API_ORIGINS, PATHAO_BASE_URL: fake.origin}
    yield fake
    server.shutdown()
    server.server_close()
