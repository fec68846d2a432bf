"""A WooCommerce store standing in for a real one: a local HTTP server answering the REST API v3
(`/wp-json/wc/v3`) as WooCommerce does (Basic auth checked, `X-WP-Total` and `X-WP-TotalPages`,
`modified_after` exclusive and compared in GMT only with `dates_are_gmt`, its error shapes, batch
limits), and the store sending webhooks, signed like WooCommerce signs them, never retried.

`fake_woocommerce` (fixture): a running `FakeWooCommerce` whose API answers for `STORE_URL`
(settings.ALLIED_API_ORIGINS points there), with the keys in `CREDENTIALS`.

What a test arranges: `add_product`, `add_variable_product`, `create_order`, `update_order`,
`delete_order` (each delivering its webhook unless `deliver=False`: a dropped delivery),
`throttle(n)`. What the store's own API requests set off (the ping of a new webhook, the
`order.updated` of an order changed through the API) WooCommerce delivers in the background:
the fake keeps them in `scheduled` until `run_scheduled()`. Deliveries go to `target(url,
headers, body) -> status`: real HTTP by default, `django_target()` for Django's test client.
"""

import base64
import hashlib
import hmac
import itertools
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

STORE_URL = "https://shop.kohsar.example"
CREDENTIALS = {
    "consumer_key": "ck_4f1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5",
    "consumer_secret": "cs_0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b",
    "webhook_secret": "woo-webhook-secret-5678",
}
API = "/wp-json/wc/v3"
SITE_OFFSET = timedelta(hours=5)  # the site's timezone (Asia/Karachi): local dates differ from GMT
START = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
ORDER_STATUSES = {"pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "trash"}
ORDER_BY = {"date", "id", "include", "title", "slug", "modified"}
MAX_DELIVERY_FAILURES = 5  # WooCommerce disables a webhook after more consecutive failures

Target = Callable[[str, dict[str, str], bytes], int]


def http_target(url: str, headers: dict[str, str], body: bytes) -> int:
    """Deliver over HTTP, as WooCommerce does (`wp_safe_remote_request`); a failure counts as 0."""
    try:
        return httpx.post(url, content=body, headers=headers, timeout=10).status_code
    except httpx.HTTPError:
        return 0


def django_target(client: Any = None) -> Target:
    """Deliver through Django's test client (same process, no server)."""
    from django.test import Client

    django = client or Client()

    def post(url: str, headers: dict[str, str], body: bytes) -> int:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        rest = {name: value for name, value in headers.items() if name != "Content-Type"}
        return int(django.post(path, body, content_type=headers["Content-Type"], headers=rest).status_code)

    return post


def signature(body: bytes, secret: str) -> str:
    """WooCommerce's `generate_signature`: base64 of the raw HMAC-SHA256 of the body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def wc_date(moment: datetime, *, local: bool = False) -> str:
    """A date as WooCommerce writes it: no offset, in the site's time or (`*_gmt`) in GMT."""
    shown = moment.astimezone(UTC) + (SITE_OFFSET if local else timedelta(0))
    return shown.strftime("%Y-%m-%dT%H:%M:%S")


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.data = status, code, message, data

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": {"status": self.status, **self.data}}


@dataclass
class Delivery:
    url: str
    headers: dict[str, str]
    body: bytes
    status: int = 0

    @property
    def topic(self) -> str:
        return self.headers.get("X-WC-Webhook-Topic", "")

    def payload(self) -> Any:
        return json.loads(self.body) if self.topic else self.body.decode()


@dataclass
class Received:
    method: str
    path: str
    params: dict[str, str]
    body: Any
    status: int = 200


@dataclass
class FakeWooCommerce:
    """Its state (`orders`, `notes`, `products`, `variations`, `webhooks`) may be read and changed
    by tests; `received` lists the API requests, `deliveries` the webhooks sent."""

    store_url: str = STORE_URL
    credentials: dict[str, str] = field(default_factory=lambda: dict(CREDENTIALS))
    site_title: str = "Kohsar Crafts"
    target: Target = http_target
    origin: str = ""  # where its API answers, once served
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    variations: dict[int, dict[str, Any]] = field(default_factory=dict)
    webhooks: dict[int, dict[str, Any]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    scheduled: list[tuple[str, dict[str, str], bytes, int | None]] = field(default_factory=list)
    throttled: int = 0
    now: datetime = START
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(700))

    # What a test arranges ------------------------------------------------------------------

    def tick(self) -> datetime:
        """The store's clock: each change happens one second after the last."""
        self.now += timedelta(seconds=1)
        return self.now

    def throttle(self, requests: int) -> None:
        """Answer the next `requests` API requests 429 with Retry-After: 1."""
        self.throttled = requests

    def add_product(self, sku: str, *, name: str = "", stock: int | None = None) -> dict[str, Any]:
        product = self._product(sku, name or f"Product {sku}", "simple", stock)
        self.products[product["id"]] = product
        return product

    def add_variable_product(self, name: str, variation_skus: list[str], *, sku: str = "") -> dict[str, Any]:
        parent = self._product(sku, name, "variable", None)
        self.products[parent["id"]] = parent
        for variation_sku in variation_skus:
            variation_id = next(self._ids)
            self.variations[variation_id] = {
                "id": variation_id,
                "parent_id": parent["id"],
                "sku": variation_sku,
                "price": "1500",
                "regular_price": "1500",
                "status": "publish",
                "manage_stock": "parent",
                "stock_quantity": None,
                "stock_status": "instock",
                "attributes": [{"id": 0, "name": "Size", "option": variation_sku.rsplit("-", 1)[-1]}],
                "date_modified_gmt": wc_date(self.now),
            }
            parent["variations"].append(variation_id)
        return parent

    def _product(self, sku: str, name: str, kind: str, stock: int | None) -> dict[str, Any]:
        return {
            "id": next(self._ids),
            "name": name,
            "slug": name.lower().replace(" ", "-"),
            "type": kind,
            "status": "publish",
            "sku": sku,
            "price": "1500",
            "regular_price": "1500",
            "manage_stock": stock is not None,
            "stock_quantity": stock,
            "stock_status": "instock" if stock is None or stock > 0 else "outofstock",
            "variations": [],
            "date_modified_gmt": wc_date(self.now),
        }

    def find_sku(self, sku: str) -> dict[str, Any]:
        """The product or variation with this SKU."""
        for item in [*self.products.values(), *self.variations.values()]:
            if item["sku"] == sku:
                return item
        raise KeyError(sku)

    def create_order(
        self,
        *,
        lines: list[tuple[str, int, str]] | None = None,  # (sku, quantity, unit price)
        payment_method: str = "cod",
        status: str = "processing",
        modified: datetime | None = None,
        deliver: bool = True,
        **changes: Any,
    ) -> dict[str, Any]:
        """A customer's checkout: the order, and its `order.created` webhook."""
        with self.lock:
            lines = lines or [("TEE-BLK-M", 2, "1500.00")]
            order = self._order(next(self._ids), lines, payment_method, status, modified or self.tick())
            order.update(changes)
            self.orders[order["id"]] = order
            self.notes[order["id"]] = []
        if deliver:
            self.deliver("order.created", order["id"])
        return order

    def update_order(
        self, order_id: int, *, modified: datetime | None = None, deliver: bool = True, **changes: Any
    ) -> dict[str, Any]:
        """A change in the shop's admin: the order, and its `order.updated` webhook."""
        with self.lock:
            order = self.orders[order_id]
            order.update(changes)
            self._modified(order, modified or self.tick())
        if deliver:
            self.deliver("order.updated", order_id)
        return order

    def delete_order(self, order_id: int, *, deliver: bool = True) -> None:
        """The order moved to the bin: `order.deleted`, whose body is only the id."""
        with self.lock:
            order = self.orders[order_id]
            order["status"] = "trash"
            self._modified(order, self.tick())
        if deliver:
            self.deliver("order.deleted", order_id)

    def _order(
        self, order_id: int, lines: list[tuple[str, int, str]], payment_method: str, status: str, at: datetime
    ) -> dict[str, Any]:
        items = []
        for sku, quantity, price in lines:
            try:
                found = self.find_sku(sku)
            except KeyError:
                found = {"id": 0}
            parent = found.get("parent_id")
            product_id, variation_id = (parent, found["id"]) if parent else (found["id"], 0)
            total = f"{float(price) * quantity:.2f}"
            items.append(
                {
                    "id": next(self._ids),
                    "name": f"Product {sku}",
                    "product_id": product_id,
                    "variation_id": variation_id,
                    "quantity": quantity,
                    "tax_class": "",
                    "subtotal": total,
                    "subtotal_tax": "0.00",
                    "total": total,
                    "total_tax": "0.00",
                    "taxes": [],
                    "meta_data": [],
                    "sku": sku,
                    "price": float(price),
                }
            )
        shipping_total = "200.00"
        total = sum(float(item["total"]) for item in items) + float(shipping_total)
        person = {"first_name": "Hina", "last_name": "Baig", "company": ""}
        place = {
            "address_1": "House 12, Street 4",
            "address_2": "Block 7",
            "city": "Karachi",
            "state": "SD",
            "postcode": "75300",
            "country": "PK",
        }
        return {
            "id": order_id,
            "parent_id": 0,
            "number": str(order_id),
            "order_key": f"wc_order_{order_id:x}abc",
            "created_via": "checkout",
            "version": "9.4.2",
            "status": status,
            "currency": "PKR",
            "date_created": wc_date(at, local=True),
            "date_created_gmt": wc_date(at),
            "date_modified": wc_date(at, local=True),
            "date_modified_gmt": wc_date(at),
            "discount_total": "0.00",
            "discount_tax": "0.00",
            "shipping_total": shipping_total,
            "shipping_tax": "0.00",
            "cart_tax": "0.00",
            "total": f"{total:.2f}",
            "total_tax": "0.00",
            "prices_include_tax": False,
            "customer_id": 0,
            "customer_ip_address": "203.0.113.7",
            "customer_user_agent": "Mozilla/5.0",
            "customer_note": "Ring twice",
            "billing": {**person, **place, "email": "hina@example.com", "phone": "0300 1112233"},
            "shipping": {**person, **place, "phone": "0300 1112233"},
            "payment_method": payment_method,
            "payment_method_title": "Cash on delivery" if payment_method == "cod" else "Card",
            "transaction_id": "",
            "date_paid": None,
            "date_paid_gmt": None,
            "date_completed": None,
            "date_completed_gmt": None,
            "cart_hash": "",
            "meta_data": [],
            "line_items": items,
            "tax_lines": [],
            "shipping_lines": [{"id": next(self._ids), "method_title": "Flat rate", "total": shipping_total}],
            "fee_lines": [],
            "coupon_lines": [],
            "refunds": [],
        }

    def _modified(self, order: dict[str, Any], at: datetime) -> None:
        order["date_modified"], order["date_modified_gmt"] = wc_date(at, local=True), wc_date(at)

    # The store delivering webhooks ----------------------------------------------------------

    def deliver(self, topic: str, resource_id: int) -> list[Delivery]:
        """Send `topic` about the resource to each active webhook of that topic, now, once."""
        with self.lock:
            outgoing = [self._delivery(hook, topic, resource_id) for hook in self._hooks(topic)]
        return [self._send(*item) for item in outgoing]

    def run_scheduled(self) -> list[Delivery]:
        """Deliver what the API's requests scheduled (WooCommerce does it in the background)."""
        with self.lock:
            outgoing, self.scheduled = self.scheduled, []
        return [self._send(*item) for item in outgoing]

    def _hooks(self, topic: str) -> list[dict[str, Any]]:
        return [hook for hook in self.webhooks.values() if hook["topic"] == topic and hook["status"] == "active"]

    def _delivery(
        self, hook: dict[str, Any], topic: str, resource_id: int
    ) -> tuple[str, dict[str, str], bytes, int | None]:
        resource, event = topic.split(".", 1)
        payload = {"id": resource_id} if event == "deleted" else self.orders[resource_id]
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)",
            "X-WC-Webhook-Source": self.store_url + "/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": signature(body, hook["secret"]),
            "X-WC-Webhook-ID": str(hook["id"]),
            "X-WC-Webhook-Delivery-ID": hashlib.md5(f"{hook['id']}-{next(self._ids)}".encode()).hexdigest(),  # noqa: S324
        }
        return hook["delivery_url"], headers, body, hook["id"]

    def _ping(self, hook: dict[str, Any]) -> tuple[str, dict[str, str], bytes, int | None]:
        """WooCommerce's ping of a new webhook: a form body naming it, no topic, no signature."""
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)",
        }
        return hook["delivery_url"], headers, f"webhook_id={hook['id']}".encode(), None

    def _send(self, url: str, headers: dict[str, str], body: bytes, hook_id: int | None) -> Delivery:
        delivery = Delivery(url, headers, body)
        delivery.status = self.target(url, headers, body)
        with self.lock:
            self.deliveries.append(delivery)
            hook = self.webhooks.get(hook_id) if hook_id is not None else None
            if hook is not None:
                # Never retried: a failure only counts towards disabling the webhook.
                hook["failure_count"] = 0 if 200 <= delivery.status < 300 else hook["failure_count"] + 1
                if hook["failure_count"] > MAX_DELIVERY_FAILURES:
                    hook["status"] = "disabled"
        return delivery

    # The REST API -----------------------------------------------------------------------------

    def answer(
        self, method: str, path: str, params: dict[str, str], headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], Any]:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        received = Received(method, path, params, body)
        with self.lock:
            self.received.append(received)
            return self._answer(received, headers)

    def _answer(self, received: Received, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        method, path, params, body = received.method, received.path, received.params, received.body
        if self.throttled:
            self.throttled -= 1
            received.status = 429
            refusal = Refusal(429, "rest_too_many_requests", "Too many requests.")
            return 429, {"Retry-After": "1"}, refusal.body()
        try:
            self._authenticate(method, headers.get("Authorization", ""))
            status, extra, answer = self._route(method, path, params, body)
        except Refusal as refusal:
            status, extra, answer = refusal.status, {}, refusal.body()
        received.status = status
        return status, extra, answer

    def _authenticate(self, method: str, authorization: str) -> None:
        """WooCommerce's Basic auth: a wrong key or secret is refused outright; no key at all leaves
        the request anonymous, which the endpoint's permission check refuses."""
        if not authorization.startswith("Basic "):
            verb = {"GET": "list resources", "POST": "create resources"}.get(method, "edit this resource")
            cannot = {"GET": "view", "POST": "create"}.get(method, "edit")
            message = f"Sorry, you cannot {verb}." if method == "GET" else f"Sorry, you are not allowed to {verb}."
            raise Refusal(401, f"woocommerce_rest_cannot_{cannot}", message)
        key, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        if not hmac.compare_digest(key, self.credentials["consumer_key"]):
            raise Refusal(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        if not hmac.compare_digest(secret, self.credentials["consumer_secret"]):
            raise Refusal(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")

    def _route(self, method: str, path: str, params: dict[str, str], body: Any) -> tuple[int, dict[str, str], Any]:
        parts = path.removeprefix(API).strip("/").split("/")
        with self.lock:
            match method, parts:
                case "GET", ["settings", "email", "woocommerce_email_from_name"]:
                    return 200, {}, self._from_name()
                case "GET", ["webhooks"]:
                    status = params.get("status", "all")
                    hooks = [h for h in self.webhooks.values() if status in ("all", h["status"])]
                    return self._page(sorted(hooks, key=lambda h: -h["id"]), params, self._webhook_shape)
                case "POST", ["webhooks"]:
                    return 201, {}, self._webhook_create(body or {})
                case "PUT", ["webhooks", hook_id]:
                    return 200, {}, self._webhook_update(self._hook(hook_id), body or {})
                case "GET", ["orders"]:
                    return self._orders(params)
                case "GET", ["orders", order_id]:
                    return 200, {}, self._order_of(order_id)
                case "PUT", ["orders", order_id]:
                    return 200, {}, self._order_update(self._order_of(order_id), body or {})
                case "GET", ["orders", order_id, "notes"]:
                    notes = self.notes[self._order_of(order_id)["id"]]
                    kind = params.get("type", "any")
                    chosen = [n for n in notes if kind == "any" or n["customer_note"] == (kind == "customer")]
                    return 200, {}, list(reversed(chosen))
                case "POST", ["orders", order_id, "notes"]:
                    return 201, {}, self._note_add(self._order_of(order_id), body or {})
                case "GET", ["products"]:
                    return self._products(params)
                case "GET", ["products", parent_id, "variations"]:
                    return self._variations(self._parent(parent_id), params)
                case "POST", ["products", "batch"]:
                    return 200, {}, self._batch(body or {}, self._product_update)
                case "POST", ["products", parent_id, "variations", "batch"]:
                    parent = self._parent(parent_id)
                    return 200, {}, self._batch(body or {}, lambda item: self._variation_update(parent, item))
        raise Refusal(404, "rest_no_route", "No route was found matching the URL and request method.")

    def _from_name(self) -> dict[str, Any]:
        return {
            "id": "woocommerce_email_from_name",
            "label": '"From" name',
            "description": "How the sender name appears in outgoing WooCommerce emails.",
            "type": "text",
            "default": self.site_title,
            "value": self.site_title,
            "group_id": "email",
        }

    def _page(
        self, items: list[dict[str, Any]], params: dict[str, str], shape: Callable[[dict[str, Any]], Any]
    ) -> tuple[int, dict[str, str], Any]:
        per_page, page = int(params.get("per_page", 10)), int(params.get("page", 1))
        if not 1 <= per_page <= 100:
            raise Refusal(
                400,
                "rest_invalid_param",
                "Invalid parameter(s): per_page",
                params={"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"},
            )
        pages = -(-len(items) // per_page)
        chosen = items[(page - 1) * per_page : page * per_page]
        headers = {"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(pages)}
        return 200, headers, [shape(item) for item in chosen]

    # Webhooks

    def _hook(self, hook_id: str) -> dict[str, Any]:
        hook = self.webhooks.get(int(hook_id)) if hook_id.isdigit() else None
        if hook is None:
            raise Refusal(404, "woocommerce_rest_webhook_invalid_id", "Invalid ID.")
        return hook

    def _webhook_shape(self, hook: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in hook.items() if key not in {"secret", "failure_count"}}

    def _webhook_create(self, body: dict[str, Any]) -> dict[str, Any]:
        missing = [name for name in ("topic", "delivery_url") if not body.get(name)]
        if missing:
            raise Refusal(400, "rest_missing_callback_param", f"Missing parameter(s): {', '.join(missing)}")
        resource, _, event = str(body["topic"]).partition(".")
        if resource not in {"order", "product", "customer", "coupon"} or event not in {
            "created",
            "updated",
            "deleted",
            "restored",
        }:
            raise Refusal(400, "woocommerce_rest_webhook_invalid_topic", "Webhook topic is required and must be valid.")
        at = self.tick()
        hook = {
            "id": next(self._ids),
            "name": body.get("name") or f"Webhook created on {wc_date(at)}",
            "status": body.get("status") or "active",
            "topic": body["topic"],
            "resource": resource,
            "event": event,
            "hooks": [f"woocommerce_{event}_{resource}"],
            "delivery_url": body["delivery_url"],
            "date_created": wc_date(at, local=True),
            "date_created_gmt": wc_date(at),
            "date_modified": wc_date(at, local=True),
            "date_modified_gmt": wc_date(at),
            "secret": body.get("secret") or "",
            "failure_count": 0,
        }
        self.webhooks[hook["id"]] = hook
        if hook["status"] == "active":
            self.scheduled.append(self._ping(hook))
        return self._webhook_shape(hook)

    def _webhook_update(self, hook: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        for name in ("name", "status", "delivery_url", "secret"):
            if name in body:
                hook[name] = body[name]
        if body.get("status") == "active":
            hook["failure_count"] = 0
        return self._webhook_shape(hook)

    # Orders

    def _order_of(self, order_id: str) -> dict[str, Any]:
        order = self.orders.get(int(order_id)) if order_id.isdigit() else None
        if order is None:
            raise Refusal(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        return order

    def _orders(self, params: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        orderby, order = params.get("orderby", "date"), params.get("order", "desc")
        if orderby not in ORDER_BY or order not in {"asc", "desc"}:
            raise Refusal(400, "rest_invalid_param", "Invalid parameter(s): orderby, order")
        gmt = params.get("dates_are_gmt") in {"true", "1"}
        column = "date_modified_gmt" if gmt else "date_modified"
        statuses = set(params.get("status", "any").split(","))
        chosen = [
            o for o in self.orders.values() if ("any" in statuses and o["status"] != "trash") or o["status"] in statuses
        ]
        if params.get("modified_after"):
            after = datetime.fromisoformat(params["modified_after"]).replace(tzinfo=None)
            chosen = [o for o in chosen if datetime.fromisoformat(o[column]) > after]  # strictly after
        key = {"modified": "date_modified_gmt", "id": "id"}.get(orderby, "date_created_gmt")
        chosen.sort(key=lambda o: (o[key], o["id"]), reverse=order == "desc")
        return self._page(chosen, params, lambda o: o)

    def _order_update(self, order: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        status = body.get("status")
        if status is not None and status not in ORDER_STATUSES:
            raise Refusal(400, "rest_invalid_param", "Invalid parameter(s): status")
        changed = False
        if status and status != order["status"]:
            order["status"], changed = status, True
            if status == "completed":
                at = self.now
                order["date_completed"], order["date_completed_gmt"] = wc_date(at, local=True), wc_date(at)
        for name in ("customer_note",):
            if name in body and body[name] != order[name]:
                order[name], changed = body[name], True
        if changed:
            self._modified(order, self.tick())
            hooks = self._hooks("order.updated")
            self.scheduled.extend(self._delivery(hook, "order.updated", order["id"]) for hook in hooks)
        return order

    def _note_add(self, order: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("note"):
            raise Refusal(400, "rest_missing_callback_param", "Missing parameter(s): note")
        at = self.tick()
        note = {
            "id": next(self._ids),
            "author": "WooCommerce",
            "date_created": wc_date(at, local=True),
            "date_created_gmt": wc_date(at),
            "note": str(body["note"]),
            "customer_note": bool(body.get("customer_note", False)),
        }
        self.notes[order["id"]].append(note)
        return note

    # Products

    def _parent(self, product_id: str) -> dict[str, Any]:
        product = self.products.get(int(product_id)) if product_id.isdigit() else None
        if product is None:
            raise Refusal(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        return product

    @staticmethod
    def _skus(params: dict[str, str]) -> set[str] | None:
        """`sku` as WooCommerce reads it: a comma-separated list, the whole text being one too."""
        if not params.get("sku"):
            return None
        skus = params["sku"].split(",")
        return {*skus, params["sku"]} if len(skus) > 1 else set(skus)

    def _products(self, params: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        skus, kind = self._skus(params), params.get("type")
        chosen = [p for p in self.products.values() if (skus is None or p["sku"] in skus) and kind in (None, p["type"])]
        return self._page(sorted(chosen, key=lambda p: -p["id"]), params, lambda p: p)

    def _variations(self, parent: dict[str, Any], params: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        skus = self._skus(params)
        chosen = [
            v for v in self.variations.values() if v["parent_id"] == parent["id"] and (skus is None or v["sku"] in skus)
        ]
        return self._page(sorted(chosen, key=lambda v: v["id"]), params, lambda v: v)

    def _batch(self, body: dict[str, Any], update: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        total = sum(len(body.get(name) or []) for name in ("create", "update", "delete"))
        if total > 100:
            message = "Unable to accept more than 100 items for this request."
            raise Refusal(413, "woocommerce_rest_request_entity_too_large", message)
        return {"update": [update(item) for item in body.get("update") or []]}

    def _stock(self, item: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        if "manage_stock" in changes:
            item["manage_stock"] = bool(changes["manage_stock"])
        if "stock_quantity" in changes:
            item["stock_quantity"] = int(changes["stock_quantity"])
        if item["manage_stock"] is True and item["stock_quantity"] is not None:
            item["stock_status"] = "instock" if item["stock_quantity"] > 0 else "outofstock"
        item["date_modified_gmt"] = wc_date(self.tick())
        return item

    def _product_update(self, item: dict[str, Any]) -> dict[str, Any]:
        product = self.products.get(int(item.get("id") or 0))
        if product is None:
            return invalid(item, "woocommerce_rest_product_invalid_id")
        return self._stock(product, item)

    def _variation_update(self, parent: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        variation = self.variations.get(int(item.get("id") or 0))
        if variation is None or variation["parent_id"] != parent["id"]:
            return invalid(item, "woocommerce_rest_product_variation_invalid_id")
        return self._stock(variation, item)


def invalid(item: dict[str, Any], code: str) -> dict[str, Any]:
    return {"id": item.get("id"), "error": {"code": code, "message": "Invalid ID.", "data": {"status": 400}}}


def serve(fake: FakeWooCommerce) -> ThreadingHTTPServer:
    """The fake's API on 127.0.0.1 (a free port)."""

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            parts = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, headers, body = fake.answer(
                self.command,
                parts.path,
                dict(parse_qsl(parts.query, keep_blank_values=True)),
                {"Authorization": self.headers.get("Authorization", "")},
                raw,
            )
            out = json.dumps(body).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = do_PUT = do_DELETE = _reply

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake.origin = f"http://127.0.0.1:{server.server_address[1]}"
    return server


@pytest.fixture
def fake_woocommerce(settings: Any) -> Iterator[FakeWooCommerce]:
    fake = FakeWooCommerce()
    server = serve(fake)
    settings.ALLIED_API_ORIGINS = {**settings.ALLIED_API_ORIGINS, fake.store_url: fake.origin}
    yield fake
    server.shutdown()
    server.server_close()
