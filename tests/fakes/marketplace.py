"""A Daraz Open Platform standing in for the real one: a local HTTP server that checks Lazop's
signature and the seller's access token like Daraz does, and keeps orders, items and products.

`fake_marketplace` (fixture): a running `FakeMarketplace` reached through `STORE_URL`
(settings.ALLIED_API_ORIGINS points there), with the credentials in `CREDENTIALS`."""

import hashlib
import hmac
import itertools
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from xml.etree import ElementTree

import pytest

STORE_URL = "https://api.daraz.pk/rest"
APP_KEY = "501234"
APP_SECRET = "daraz-app-secret-7f3a"
CREDENTIALS = {
    "app_key": APP_KEY,
    "app_secret": APP_SECRET,
    "access_token": "50000601c30atpedfgu3LVvik87Ixlsvle3mSoB7701ceb156fPunYZ43GBg-aaaa",
    "refresh_token": "50001600212wcwiOabwyjtEH11acc19bBkmldgm6DFo3kqeQBqm8ZBfAgf-bbbb",
}
GONE_STATUSES = {"ready_to_ship", "shipped", "delivered", "canceled", "returned", "failed_delivery"}


def lazop_sign(secret: str, api_path: str, params: dict[str, str]) -> str:
    """Written here from Lazop's published SDK, apart from the connector's, so each checks the other."""
    text = api_path + "".join(key + params[key] for key in sorted(params) if key != "sign")
    return hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest().upper()


@dataclass
class Item:
    order_item_id: int
    order_id: int
    sku: str
    name: str
    item_price: str
    paid_price: str
    status: str = "pending"
    shipment_provider: str = ""
    tracking_code: str = ""

    def shape(self) -> dict[str, Any]:
        return {
            "order_item_id": self.order_item_id,
            "order_id": self.order_id,
            "sku": self.sku,
            "name": self.name,
            "item_price": self.item_price,
            "paid_price": self.paid_price,
            "currency": "PKR",
            "status": self.status,
            "shipment_provider": self.shipment_provider,
            "tracking_code": self.tracking_code,
            "shipping_type": "Dropshipping",
        }


@dataclass
class Received:
    method: str
    path: str
    params: dict[str, str]
    answered: int = 200
    code: str = "0"


@dataclass
class FakeMarketplace:
    """Its state (`orders`, `items`, `products`, `received`) may be read and changed by tests."""

    store_url: str = STORE_URL  # the address a connection names; its API is this fake
    credentials: dict[str, str] = field(default_factory=lambda: dict(CREDENTIALS))  # what connecting takes
    app_key: str = APP_KEY
    app_secret: str = APP_SECRET
    access_token: str = CREDENTIALS["access_token"]
    refresh_token: str = CREDENTIALS["refresh_token"]
    expired: set[str] = field(default_factory=set)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    items: dict[int, list[Item]] = field(default_factory=dict)
    products: dict[str, int] = field(default_factory=dict)  # SellerSku -> quantity
    received: list[Received] = field(default_factory=list)
    throttled: int = 0
    refreshed: int = 0
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(90_000_001))

    # What a test arranges ------------------------------------------------------------------

    def add_order(
        self,
        order_id: int,
        *,
        updated_at: str,
        units: list[tuple[str, str, str]],  # (sku, item_price, paid_price), one per unit
        payment_method: str = "COD",
        shipping_fee: str = "150.00",
        status: str = "pending",
    ) -> dict[str, Any]:
        order = {
            "order_id": order_id,
            "order_number": order_id,
            "created_at": updated_at,
            "updated_at": updated_at,
            "payment_method": payment_method,
            "price": f"{sum(float(price) for _, price, _ in units):.2f}",
            "shipping_fee": shipping_fee,
            "items_count": len(units),
            "remarks": "Call before delivery",
            "statuses": [status],
            "customer_first_name": "Hina",
            "address_shipping": {
                "first_name": "Hina",
                "last_name": "Baig",
                "phone": "03001112233",
                "address1": "House 12, Street 4",
                "address2": "Block 7",
                "address3": "Sindh",
                "address4": "Karachi",
                "address5": "Gulshan-e-Iqbal",
                "city": "Karachi",
                "post_code": "75300",
                "country": "Pakistan",
            },
        }
        self.orders[order_id] = order
        self.items[order_id] = [
            Item(next(self._ids), order_id, sku, f"Product {sku}", price, paid, status) for sku, price, paid in units
        ]
        return order

    def expire_token(self) -> None:
        """The current access token is refused from now on, as Daraz does once it lapses."""
        self.expired.add(self.access_token)

    def throttle(self, requests: int) -> None:
        """Answer the next `requests` requests 429 with Retry-After: 1."""
        self.throttled = requests

    def calls(self, path: str) -> list[Received]:
        """The requests to `path` that were accepted (signature and token good)."""
        return [call for call in self.received if call.path == path and call.answered == 200 and call.code == "0"]

    # What it answers -----------------------------------------------------------------------

    def answer(self, method: str, path: str, params: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
        received = Received(method, path, params)
        self.received.append(received)
        if self.throttled:
            self.throttled -= 1
            received.answered = 429
            return 429, {"Retry-After": "1"}, {"code": "ApiCallLimit", "type": "ISP", "message": "Too many calls"}
        body = self._answer(path, params)
        received.code = str(body["code"])
        return 200, {}, body

    def _answer(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        if params.get("app_key") != self.app_key:
            return error("InvalidApiKey", "The app key is not valid", "ISV")
        if params.get("sign_method") != "sha256" or params.get("sign") != lazop_sign(self.app_secret, path, params):
            return error("IncompleteSignature", "The request signature does not conform to platform standards", "ISV")
        if path == "/auth/token/refresh":
            return self._refresh(params)
        token = params.get("access_token", "")
        if token in self.expired or token != self.access_token:
            return error("IllegalAccessToken", "The specified access token is invalid or expired", "ISV")
        handler = {
            "/seller/get": self._seller,
            "/orders/get": self._orders,
            "/orders/items/get": self._orders_items,
            "/order/items/get": self._order_items,
            "/order/pack": self._pack,
            "/order/rts": self._rts,
            "/product/price_quantity/update": self._stock,
        }.get(path)
        if handler is None:
            return error("InvalidApiPath", f"The specified API path {path} is invalid", "ISV")
        return handler(params)

    def _refresh(self, params: dict[str, str]) -> dict[str, Any]:
        if params.get("refresh_token") != self.refresh_token:
            return error("IllegalRefreshToken", "The specified refresh token is invalid or expired", "ISV")
        self.refreshed += 1
        self.access_token = f"50000{self.refreshed:03d}fresh-access-token-{self.refreshed:02d}z9{self.refreshed:02d}"
        self.refresh_token = f"50001{self.refreshed:03d}fresh-refresh-token-{self.refreshed:02d}y8"
        return {
            "code": "0",
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_in": 604800,
            "refresh_expires_in": 2592000,
            "country": "pk",
            "account": "seller@example.com",
            "request_id": "0ba2887315178178017221014",
        }

    def _seller(self, params: dict[str, str]) -> dict[str, Any]:
        return ok({"name": "Kohsar Traders", "short_code": "PK1A2B3", "seller_id": 1000123, "email": "s@example.com"})

    def _orders(self, params: dict[str, str]) -> dict[str, Any]:
        after = params.get("update_after", "")
        if not after or params.get("sort_by") != "updated_at":
            return error("MissingParameter", "update_after or created_after is required", "ISV")
        since = datetime.fromisoformat(after)
        chosen = sorted(
            (o for o in self.orders.values() if datetime.strptime(o["updated_at"], "%Y-%m-%d %H:%M:%S %z") >= since),
            key=lambda o: (datetime.strptime(o["updated_at"], "%Y-%m-%d %H:%M:%S %z"), o["order_id"]),
            reverse=params.get("sort_direction") == "DESC",
        )
        offset, limit = int(params.get("offset", 0)), min(100, int(params.get("limit", 100)))
        page = chosen[offset : offset + limit]
        return ok({"count": len(page), "countTotal": len(chosen), "orders": page})

    def _orders_items(self, params: dict[str, str]) -> dict[str, Any]:
        ids = [int(value) for value in re.findall(r"\d+", params.get("order_ids", ""))]
        if len(ids) > 50:
            return error("InvalidParameter", "At most 50 order ids", "ISV")
        return ok(
            [
                {"order_id": oid, "order_number": oid, "order_items": [item.shape() for item in self.items[oid]]}
                for oid in ids
                if oid in self.items
            ]
        )

    def _order_items(self, params: dict[str, str]) -> dict[str, Any]:
        order_id = int(params.get("order_id", "0"))
        if order_id not in self.items:
            return error("OrderNotFound", "Order not found", "ISV")
        return ok([item.shape() for item in self.items[order_id]])

    def _items(self, params: dict[str, str]) -> list[Item]:
        ids = {int(value) for value in re.findall(r"\d+", params.get("order_item_ids", ""))}
        return [item for items in self.items.values() for item in items if item.order_item_id in ids]

    def _pack(self, params: dict[str, str]) -> dict[str, Any]:
        items = self._items(params)
        if not items or params.get("delivery_type") != "dropship" or not params.get("shipping_provider"):
            return error("InvalidParameter", "order_item_ids, delivery_type and shipping_provider", "ISV")
        if any(item.status != "pending" for item in items):
            return error("E0063", "Item status is not pending", "ISV")
        for item in items:
            item.status, item.shipment_provider = "packed", params["shipping_provider"]
        return ok({"order_items": [{"order_item_id": item.order_item_id} for item in items]})

    def _rts(self, params: dict[str, str]) -> dict[str, Any]:
        items = self._items(params)
        if not items or not params.get("tracking_number") or not params.get("shipment_provider"):
            return error("InvalidParameter", "order_item_ids, shipment_provider and tracking_number", "ISV")
        if any(item.status != "packed" for item in items):
            return error("E0073", "Item must be packed before it is ready to ship", "ISV")
        for item in items:
            item.status, item.tracking_code = "ready_to_ship", params["tracking_number"]
        return ok({"order_items": [{"order_item_id": item.order_item_id} for item in items]})

    def _stock(self, params: dict[str, str]) -> dict[str, Any]:
        try:
            root = ElementTree.fromstring(params.get("payload", ""))  # noqa: S314 (what the test's own client sent)
            skus = root.findall("./Product/Skus/Sku")
        except ElementTree.ParseError:
            return error("InvalidParameter", "payload is not XML", "ISV")
        if len(skus) > 50:
            return error("InvalidParameter", "At most 50 SKUs", "ISV")
        unknown = []
        for sku in skus:
            seller_sku, quantity = sku.findtext("SellerSku", ""), sku.findtext("Quantity")
            if seller_sku not in self.products:
                unknown.append(seller_sku)
            elif quantity is not None:
                self.products[seller_sku] = int(quantity)
        if unknown:
            body = error("501", "Partial success: some SKUs could not be updated", "ISV")
            body["detail"] = [
                {"field": "SellerSku", "message": "SELLER_SKU_NOT_FOUND", "seller_sku": s} for s in unknown
            ]
            return body
        return ok({})


def ok(data: Any) -> dict[str, Any]:
    return {"code": "0", "data": data, "request_id": "0ba2887315178178017221014"}


def error(code: str, message: str, kind: str) -> dict[str, Any]:
    return {"code": code, "type": kind, "message": message, "request_id": "0ba2887315178178017221014"}


def serve(fake: FakeMarketplace) -> ThreadingHTTPServer:
    """The fake on 127.0.0.1 (a free port); its API answers under /rest, like Daraz's."""

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, method: str, params: dict[str, str]) -> None:
            path = urlsplit(self.path).path.removeprefix("/rest")
            with lock:
                status, headers, body = fake.answer(method, path, params)
            raw = json.dumps(body).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            self._reply("GET", dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True)))

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
            params |= dict(parse_qsl(body, keep_blank_values=True))
            self._reply("POST", params)

        def log_message(self, *args: Any) -> None:
            pass

    lock = threading.Lock()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def fake_marketplace(settings: Any) -> Iterator[FakeMarketplace]:
    fake = FakeMarketplace()
    server = serve(fake)
    settings.ALLIED_API_ORIGINS = {STORE_URL: f"http://127.0.0.1:{server.server_address[1]}/rest"}
    yield fake
    server.shutdown()
    server.server_close()
