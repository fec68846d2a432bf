"""Steadfast's API v1 standing in for the real one: a local HTTP server answering as
allied.couriers.steadfast documents it (`Api-Key`/`Secret-Key` checked, orders validated per field
inside Steadfast's `{"status": 400, "errors": ...}` envelope, the three status look-ups, return
requests), and Steadfast delivering webhooks with the merchant's bearer token.

`fake_steadfast` (fixture): a running `FakeSteadfast` whose API answers for `STEADFAST_BASE_URL`
(settings.ALLIED_API_ORIGINS points there, path and all), with the keys in `CREDENTIALS`.

What a test arranges: `advance(consignment_id, raw_status)` (the parcel's `delivery_status` changes
and a "delivery_status" webhook is delivered to `webhook_url` through `target`, when set),
`tracking_message(consignment_id, text)` (a "tracking_update" webhook), `fail_next(status,
retry_after=None)`, and `refusal_http_status`: the HTTP status of a refused booking (200 by default,
the envelope alone saying 400; integrators have seen 400 too).
"""

import itertools
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest

from allied.couriers.steadfast import STEADFAST_BASE_URL
from tests.fakes.serving import Delivery, Received, json_api_served

CREDENTIALS = {
    "api_key": "sf-api-key-0a9b8c7d6e5f",
    "secret_key": "sf-secret-key-1b2c3d4e5f6a",
    "webhook_token": "sf-webhook-token-9z8y7x",
}
PREFIX = urlsplit(STEADFAST_BASE_URL).path  # "/api/v1"
START = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
DHAKA = timedelta(hours=6)
DELIVERY_STATUSES = {
    "pending",
    "delivered_approval_pending",
    "partial_delivered_approval_pending",
    "cancelled_approval_pending",
    "unknown_approval_pending",
    "delivered",
    "partial_delivered",
    "cancelled",
    "hold",
    "in_review",
    "unknown",
}

Target = Callable[[str, dict[str, str], bytes], int]


def http_target(url: str, headers: dict[str, str], body: bytes) -> int:
    try:
        return httpx.post(url, content=body, headers=headers, timeout=10).status_code
    except httpx.HTTPError:
        return 0


def accepting(url: str, headers: dict[str, str], body: bytes) -> int:
    """A webhook endpoint that accepts everything; what was sent stays in `deliveries`."""
    return 200


class Refusal(Exception):
    def __init__(self, status: int, body: dict[str, Any], http_status: int | None = None) -> None:
        super().__init__(body.get("message", ""))
        self.status, self.body = http_status or status, body


@dataclass
class FakeSteadfast:
    """Its state (`consignments`, `returns`) may be read and changed by tests; `received` lists the
    API requests, `deliveries` the webhooks sent."""

    credentials: dict[str, str] = field(default_factory=lambda: dict(CREDENTIALS))
    webhook_url: str = ""
    target: Target = http_target
    origin: str = ""
    refusal_http_status: int = 200
    consignments: dict[str, dict[str, Any]] = field(default_factory=dict)
    returns: dict[int, dict[str, Any]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    failures: list[tuple[int, float | None]] = field(default_factory=list)
    now: datetime = START
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1424107))

    # What a test arranges -------------------------------------------------------------------

    def tick(self) -> datetime:
        self.now += timedelta(minutes=7)
        return self.now

    def fail_next(self, status: int, retry_after: float | None = None) -> None:
        self.failures.append((status, retry_after))

    def advance(
        self, consignment_id: str, raw_status: str, *, message: str = "", cod_amount: Any = None
    ) -> Delivery | None:
        """Steadfast changes the parcel's delivery status and sends its "delivery_status" webhook;
        `cod_amount` is what the rider collected (a partial delivery collects less), by default the
        amount booked."""
        with self.lock:
            parcel = self.consignments[consignment_id]
            parcel["status"] = raw_status
            at = self.tick()
            payload = {
                "notification_type": "delivery_status",
                "consignment_id": int(consignment_id),
                "invoice": parcel["invoice"],
                "cod_amount": parcel["cod_amount"] if cod_amount is None else cod_amount,
                "status": raw_status,
                "delivery_charge": 100,
                "tracking_message": message or f"Consignment status has been updated as {raw_status}",
                "updated_at": _local(at),
            }
        return self.deliver(payload) if self.webhook_url else None

    def tracking_message(self, consignment_id: str, text: str) -> Delivery:
        with self.lock:
            parcel = self.consignments[consignment_id]
            payload = {
                "notification_type": "tracking_update",
                "consignment_id": int(consignment_id),
                "invoice": parcel["invoice"],
                "tracking_message": text,
                "updated_at": _local(self.tick()),
            }
        return self.deliver(payload)

    def deliver(self, payload: dict[str, Any], *, token: str | None = None) -> Delivery:
        body = json.dumps(payload, separators=(",", ":")).encode()
        bearer = self.credentials["webhook_token"] if token is None else token
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {bearer}"}
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
                return status, extra, {"status": status, "message": "Too Many Attempts."}
            try:
                self._authenticate(headers)
                status, answer = self._route(method, path, body if isinstance(body, dict) else {})
            except Refusal as refusal:
                status, answer = refusal.status, refusal.body
            received.status = status
            return status, {}, answer

    def _authenticate(self, headers: dict[str, str]) -> None:
        if (
            headers.get("api-key") != self.credentials["api_key"]
            or headers.get("secret-key") != self.credentials["secret_key"]
        ):
            raise Refusal(401, {"status": 401, "message": "Unauthorized request."})

    def _route(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        parts = [unquote(part) for part in path.removeprefix(PREFIX).strip("/").split("/")]
        match method, parts:
            case "POST", ["create_order"]:
                return 200, self._create(body)
            case "GET", ["status_by_cid", consignment_id]:
                return 200, self._status(lambda c: c["consignment_id"] == consignment_id)
            case "GET", ["status_by_invoice", invoice]:
                return 200, self._status(lambda c: c["invoice"] == invoice)
            case "GET", ["status_by_trackingcode", code]:
                return 200, self._status(lambda c: c["tracking_code"] == code)
            case "POST", ["create_return_request"]:
                return 200, self._return(body)
            case "GET", ["get_balance"]:
                return 200, {"status": 200, "current_balance": 0}
        raise Refusal(404, {"status": 404, "message": "Not Found"})

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        errors = self._validate(body)
        if errors:
            raise Refusal(400, {"status": 400, "errors": errors}, http_status=self.refusal_http_status)
        consignment_id = str(next(self._ids))
        at = self.tick()
        parcel = {
            "consignment_id": consignment_id,
            "invoice": body["invoice"],
            "tracking_code": f"SFR{at:%y%m%d}ST{int(consignment_id):08X}BD",
            "recipient_name": body["recipient_name"],
            "recipient_phone": body["recipient_phone"],
            "recipient_address": body["recipient_address"],
            "cod_amount": body["cod_amount"],
            "status": "in_review",
            "note": body.get("note") or None,
            "created_at": at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "updated_at": at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        }
        self.consignments[consignment_id] = parcel
        shown = {**parcel, "consignment_id": int(consignment_id)}
        return {"status": 200, "message": "Consignment has been created successfully.", "consignment": shown}

    def _validate(self, body: dict[str, Any]) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        invoice = str(body.get("invoice") or "")
        if not invoice:
            errors["invoice"] = ["The invoice field is required."]
        elif not all(ch.isalnum() or ch in "-_" for ch in invoice):
            errors["invoice"] = ["The invoice may only contain letters, numbers, dashes and underscores."]
        elif any(c["invoice"] == invoice for c in self.consignments.values()):
            errors["invoice"] = ["The invoice has already been taken."]
        name = str(body.get("recipient_name") or "")
        if not name:
            errors["recipient_name"] = ["The recipient name field is required."]
        elif len(name) > 100:
            errors["recipient_name"] = ["The recipient name may not be greater than 100 characters."]
        phone = str(body.get("recipient_phone") or "")
        if not phone:
            errors["recipient_phone"] = ["The recipient phone field is required."]
        elif len(phone) != 11 or not phone.isdigit():
            errors["recipient_phone"] = ["The recipient phone must be 11 digits."]
        address = str(body.get("recipient_address") or "")
        if not address:
            errors["recipient_address"] = ["The recipient address field is required."]
        elif len(address) > 250:
            errors["recipient_address"] = ["The recipient address may not be greater than 250 characters."]
        cod = body.get("cod_amount")
        if cod is None:
            errors["cod_amount"] = ["The cod amount field is required."]
        elif not isinstance(cod, int | float) or cod < 0:
            errors["cod_amount"] = ["The cod amount must be at least 0."]
        return errors

    def _status(self, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        for parcel in self.consignments.values():
            if match(parcel):
                return {"status": 200, "delivery_status": parcel["status"]}
        raise Refusal(404, {"status": 404, "message": "Consignment not found."})

    def _return(self, body: dict[str, Any]) -> dict[str, Any]:
        consignment_id = str(body.get("consignment_id") or "")
        if consignment_id not in self.consignments:
            raise Refusal(404, {"status": 404, "message": "Consignment not found."})
        request_id = len(self.returns) + 1
        at = _local(self.tick())
        self.returns[request_id] = request = {
            "id": request_id,
            "user_id": 7,
            "consignment_id": int(consignment_id),
            "reason": body.get("reason"),
            "status": "pending",
            "created_at": at,
            "updated_at": at,
        }
        return request


def _local(moment: datetime) -> str:
    """A time as Steadfast writes it: Dhaka's wall clock, no offset."""
    return (moment.astimezone(UTC) + DHAKA).strftime("%Y-%m-%d %H:%M:%S")


def serve(fake: FakeSteadfast) -> ThreadingHTTPServer:
    """The fake's API on 127.0.0.1 (a free port)."""
    server, fake.origin = json_api_served(fake.answer)
    return server


@pytest.fixture
def fake_steadfast(settings: Any) -> Iterator[FakeSteadfast]:
    fake = FakeSteadfast(webhook_url="https://allied.example/couriers/steadfast/webhook", target=accepting)
    server = serve(fake)
    settings.ALLIED_API_ORIGINS = {**settings.ALLIED_API_ORIGINS, STEADFAST_BASE_URL: fake.origin + PREFIX}
    yield fake
    server.shutdown()
    server.server_close()
