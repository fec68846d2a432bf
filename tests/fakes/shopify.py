"""A fake Shopify shop: the GraphQL Admin API (2025-01) for what Allied asks of it, served over real
HTTP on 127.0.0.1, and the shop's side of webhooks (signed like Shopify's, sent to every subscribed
address).

The API follows Shopify's contract where Allied depends on it: `X-Shopify-Access-Token` or 401;
argument names as the schema has them; a response holds only the fields the query selected; every
answer carries `extensions.cost` (requested cost as Shopify documents it: 2 + `first` per
connection, times its nodes; 1 per object; 10 per mutation) and is refused with a THROTTLED error
when the bucket cannot pay, which refills at `restoreRate` points a second of the fake's clock
(real time plus whatever `advance` added); a query over 1,000 points is refused outright. Simpler
than Shopify: the requested cost is charged (Shopify refunds the difference to the actual cost),
and the search syntax understood is `updated_at:>='<iso>'` and `sku:"A" OR sku:"B"`.
"""

import base64
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx

API_PATH = "/admin/api/2025-01/graphql.json"
ACCESS_TOKEN = "shpat_test_access_token_abcd"
CLIENT_SECRET = "shpss_test_client_secret_1234"
HOME_LOCATION = "gid://shopify/Location/1"  # the shop's own warehouse, merchant-managed
MAX_QUERY_COST = 1000
TOPICS = {
    "ORDERS_CREATE": "orders/create",
    "ORDERS_UPDATED": "orders/updated",
    "ORDERS_CANCELLED": "orders/cancelled",
    "FULFILLMENT_ORDERS_FULFILLMENT_REQUEST_SUBMITTED": "fulfillment_orders/fulfillment_request_submitted",
    "FULFILLMENT_ORDERS_CANCELLATION_REQUEST_SUBMITTED": "fulfillment_orders/cancellation_request_submitted",
    "APP_UNINSTALLED": "app/uninstalled",
}
Deliver = Callable[[str, dict[str, str], bytes], Any]


# A small GraphQL reader: enough to tell the operation, its root fields, their arguments and selections.

TOKEN = re.compile(r'\.\.\.|"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|[{}():$!\[\]=@]')


@dataclass
class Field:
    args: dict[str, Any]
    selection: dict[str, "Field"] | None


class Reader:
    def __init__(self, text: str, variables: dict[str, Any]) -> None:
        self.tokens = TOKEN.findall(re.sub(r"#[^\n]*", "", text))
        self.at = 0
        self.variables = variables

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.tokens[self.at]
        if expected is not None and token != expected:
            raise ValueError(f"expected {expected!r}, found {token!r}")
        self.at += 1
        return token

    def document(self) -> tuple[str, dict[str, Field]]:
        kind = "query"
        if self.peek() in ("query", "mutation"):
            kind = self.take()
            if self.peek() not in ("(", "{"):
                self.take()  # the operation's name
            if self.peek() == "(":
                depth = 0
                while True:
                    token = self.take()
                    depth += {"(": 1, ")": -1}.get(token, 0)
                    if depth == 0:
                        break
        return kind, self.selection()

    def selection(self) -> dict[str, Field]:
        fields: dict[str, Field] = {}
        self.take("{")
        while self.peek() != "}":
            if self.peek() == "...":
                self.take()
                self.take("on")
                self.take()
                fields.update(self.selection())
                continue
            name = self.take()
            args = self.arguments() if self.peek() == "(" else {}
            fields[name] = Field(args, self.selection() if self.peek() == "{" else None)
        self.take("}")
        return fields

    def arguments(self) -> dict[str, Any]:
        args = {}
        self.take("(")
        while self.peek() != ")":
            name = self.take()
            self.take(":")
            args[name] = self.value()
        self.take(")")
        return args

    def value(self) -> Any:
        token = self.take()
        if token == "$":
            return self.variables.get(self.take())
        if token.startswith('"'):
            return json.loads(token)
        if token == "[":
            items = []
            while self.peek() != "]":
                items.append(self.value())
            self.take("]")
            return items
        if token == "{":
            obj = {}
            while self.peek() != "}":
                key = self.take()
                self.take(":")
                obj[key] = self.value()
            self.take("}")
            return obj
        if re.fullmatch(r"-?\d+", token):
            return int(token)
        return {"true": True, "false": False, "null": None}.get(token, token)  # an enum stays its name


def query_cost(selection: dict[str, Field], *, mutation: bool = False) -> int:
    total = 0
    for name, field_ in selection.items():
        if field_.selection is None or name == "pageInfo":
            continue
        inner = query_cost(field_.selection)
        if "first" in field_.args:
            first = int(field_.args["first"] or 0)
            nodes = field_.selection.get("nodes") or field_.selection.get("edges")
            per_node = query_cost(nodes.selection) if nodes and nodes.selection else 0
            total += 2 + first + first * per_node
        else:
            total += (10 if mutation else 1) + inner
    return total


def prune(value: Any, selection: dict[str, Field] | None) -> Any:
    """Only what the query selected, as Shopify answers; a nested connection paged by its arguments."""
    if selection is None or value is None:
        return value
    if isinstance(value, list):
        return [prune(item, selection) for item in value]
    picked = {}
    for name, field_ in selection.items():
        inner = value.get(name)
        if isinstance(inner, Connection):
            inner = page(inner["nodes"], int(field_.args.get("first") or 0), field_.args.get("after"))
        picked[name] = prune(inner, field_.selection)
    return picked


def page(nodes: list[Any], first: int, after: str | None, key: Callable[[Any], str] | None = None) -> dict[str, Any]:
    """One page of a connection (its nodes in ascending `key` order); the cursor holds the last node's
    key, so a page starts after it even when nodes moved meanwhile (an order updated between pages)."""
    keys = [key(node) if key else f"{index:08d}" for index, node in enumerate(nodes)]
    start = sum(1 for k in keys if k <= base64.b64decode(after).decode()) if after else 0
    chosen = nodes[start : start + first]
    end = start + len(chosen)
    cursors = [base64.b64encode(k.encode()).decode() for k in keys[start:end]]
    return {
        "nodes": chosen,
        "edges": [{"node": node, "cursor": cursor} for node, cursor in zip(chosen, cursors, strict=True)],
        "pageInfo": {"hasNextPage": end < len(nodes), "endCursor": cursors[-1] if cursors else None},
    }


class Connection(dict[str, Any]):
    """A nested connection (an order's line items or fulfillment orders), paged when selected."""

    def __init__(self, nodes: list[Any]) -> None:
        super().__init__(nodes=nodes)


# The shop's state --------------------------------------------------------------------------------


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def money(amount: Any, currency: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": f"{float(amount or 0):.2f}", "currencyCode": currency}}


@dataclass
class Order:
    number: int
    fields: dict[str, Any]  # the REST shape, as webhooks carry it
    fulfillment_orders: list[str] = field(default_factory=list)


@dataclass
class FulfillmentOrder:
    id: str
    order_number: int
    location_id: str
    status: str = "OPEN"
    request_status: str = "UNSUBMITTED"
    messages: list[str] = field(default_factory=list)  # what the fulfillment service answered


@dataclass
class Fulfillment:
    id: str
    fulfillment_order_ids: list[str]
    tracking: dict[str, Any]
    notify_customer: bool


class FakeShopify:
    """Tests drive it through: `origin` (for ALLIED_API_ORIGINS), `add_variant`, `create_order`,
    `update_order`, `cancel_order`, `submit_fulfillment_request`, `submit_cancellation_request`,
    `fail_next`, `set_budget`, `advance` (a client's `sleep`: moves the fake's clock and keeps the
    waits in `sleeps`), and the state: `orders`, `fulfillment_orders`, `fulfillments`, `levels`,
    `services`, `subscriptions`, `requests`, `throttled`."""

    def __init__(
        self,
        *,
        access_token: str = "shpat_test_access_token_abcd",  # noqa: S107 (a test's)
        client_secret: str = "shpss_test_client_secret_1234",  # noqa: S107 (a test's)
        shop_domain: str = "kohsar.myshopify.com",
        deliver: Deliver | None = None,
    ) -> None:
        self.access_token = access_token
        self.client_secret = client_secret
        self.shop_domain = shop_domain
        self.deliver = deliver  # None: real HTTP POSTs to the subscribed addresses
        self.lock = threading.RLock()
        self.ids = itertools.count(1001)
        self.orders: dict[int, Order] = {}
        self.fulfillment_orders: dict[str, FulfillmentOrder] = {}
        self.fulfillments: list[Fulfillment] = []
        self.variants: dict[str, str] = {}  # sku -> inventory item id
        self.levels: dict[tuple[str, str], int] = {}  # (inventory item id, location id) -> available
        self.services: list[dict[str, Any]] = []
        self.subscriptions: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []  # every GraphQL request: its operation and root fields
        self.deliveries: list[tuple[str, str, int]] = []  # (topic, address, status)
        self.throttled = 0
        self.failures: list[tuple[int, str]] = []  # (status, Retry-After) for the next requests
        self.maximum, self.restore_rate, self.available = 2000.0, 100.0, 2000.0
        self.skew = 0.0
        self.filled_at = self.clock()
        self.sleeps: list[float] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # Test controls --------------------------------------------------------------------------------

    def clock(self) -> float:
        return time.monotonic() + self.skew

    def advance(self, seconds: float) -> None:
        """Stands in for `time.sleep` in a client under test: time passes for the fake's bucket."""
        with self.lock:
            self.sleeps.append(seconds)
            self.skew += seconds

    def fail_next(self, count: int, *, status: int = 429, retry_after: str = "1") -> None:
        with self.lock:
            self.failures += [(status, retry_after)] * count

    def set_budget(self, *, available: float, restore_rate: float = 100.0, maximum: float = 2000.0) -> None:
        with self.lock:
            self.maximum, self.restore_rate, self.available = maximum, restore_rate, available
            self.filled_at = self.clock()

    def add_variant(self, sku: str) -> str:
        with self.lock:
            self.variants[sku] = gid("InventoryItem", next(self.ids))
            return self.variants[sku]

    def level(self, sku: str, location_id: str) -> int | None:
        return self.levels.get((self.variants[sku], location_id))

    def allied_location(self) -> str | None:
        return self.services[0]["location"]["id"] if self.services else None

    def create_order(self, order_id: int | None = None, *, deliver: bool = True, **fields: Any) -> dict[str, Any]:
        """A customer's order, assigned to Allied's location once Allied is the shop's fulfillment
        service (`location_id` to place it elsewhere); `orders/create` is sent unless `deliver=False`."""
        with self.lock:
            number = order_id or next(self.ids)
            location = fields.pop("location_id", None) or self.allied_location() or HOME_LOCATION
            stamp = fields.pop("updated_at", None) or now_iso()
            body = {
                "id": number,
                "admin_graphql_api_id": gid("Order", number),
                "name": f"#{number}",
                "email": "jon@example.com",
                "phone": None,
                "created_at": stamp,
                "updated_at": stamp,
                "cancelled_at": None,
                "currency": "PKR",
                "financial_status": "pending",
                "total_price": "4400.00",
                "total_outstanding": "4400.00",
                "note": "Ring twice",
                "total_shipping_price_set": {"shop_money": {"amount": "200.00", "currency_code": "PKR"}},
                "shipping_address": {
                    "first_name": "Hina",
                    "last_name": "Baig",
                    "name": "Hina Baig",
                    "address1": "House 12, Street 4",
                    "address2": "Block 7",
                    "city": "Karachi",
                    "province": "Sindh",
                    "zip": "75300",
                    "country_code": "PK",
                    "phone": "0300 1112233",
                    "latitude": 24.9180271,
                    "longitude": 67.0970916,
                },
                "line_items": [
                    {"id": 1, "title": "Tee", "sku": "TEE-BLK-M", "quantity": 2, "price": "1500.00"},
                    {"id": 2, "title": "Cap", "sku": "CAP-RED", "quantity": 1, "price": "1200.00"},
                ],
            } | fields
            order = Order(number, body)
            fulfillment_order = FulfillmentOrder(gid("FulfillmentOrder", next(self.ids)), number, location)
            order.fulfillment_orders.append(fulfillment_order.id)
            self.orders[number] = order
            self.fulfillment_orders[fulfillment_order.id] = fulfillment_order
        if deliver:
            self.send("ORDERS_CREATE", body)
        return body

    def update_order(self, order_id: int, *, deliver: bool = True, **fields: Any) -> dict[str, Any]:
        with self.lock:
            order = self.orders[order_id]
            order.fields.update(fields, updated_at=fields.get("updated_at") or now_iso())
            body = dict(order.fields)
        if deliver:
            self.send("ORDERS_UPDATED", body)
        return body

    def cancel_order(self, order_id: int, *, deliver: bool = True) -> dict[str, Any]:
        with self.lock:
            stamp = now_iso()
            order = self.orders[order_id]
            order.fields.update(cancelled_at=stamp, updated_at=stamp)
            body = dict(order.fields)
        if deliver:
            self.send("ORDERS_CANCELLED", body)
        return body

    def submit_fulfillment_request(self, order_id: int, *, message: str = "", deliver: bool = True) -> str:
        """The merchant asks the fulfillment service to fulfil the order's fulfillment order."""
        with self.lock:
            fulfillment_order = self.fulfillment_orders[self.orders[order_id].fulfillment_orders[0]]
            fulfillment_order.request_status = "SUBMITTED"
            body = {
                "original_fulfillment_order": self.fulfillment_order_rest(fulfillment_order),
                "submitted_fulfillment_order": self.fulfillment_order_rest(fulfillment_order),
                "fulfillment_order_merchant_request": {
                    "id": gid("FulfillmentOrderMerchantRequest", next(self.ids)),
                    "message": message,
                    "request_options": {"notify_customer": True},
                },
            }
        if deliver:
            self.send("FULFILLMENT_ORDERS_FULFILLMENT_REQUEST_SUBMITTED", body)
        return fulfillment_order.id

    def submit_cancellation_request(
        self, fulfillment_order_id: str, *, message: str = "", deliver: bool = True
    ) -> None:
        with self.lock:
            fulfillment_order = self.fulfillment_orders[fulfillment_order_id]
            fulfillment_order.request_status = "CANCELLATION_REQUESTED"
            body = {
                "fulfillment_order": self.fulfillment_order_rest(fulfillment_order),
                "fulfillment_order_merchant_request": {
                    "id": gid("FulfillmentOrderMerchantRequest", next(self.ids)),
                    "message": message,
                },
            }
        if deliver:
            self.send("FULFILLMENT_ORDERS_CANCELLATION_REQUEST_SUBMITTED", body)

    @staticmethod
    def fulfillment_order_rest(fulfillment_order: FulfillmentOrder) -> dict[str, Any]:
        return {
            "id": fulfillment_order.id,
            "status": fulfillment_order.status.lower(),
            "request_status": fulfillment_order.request_status.lower(),
        }

    # Webhooks -----------------------------------------------------------------------------------

    def send(self, topic: str, payload: dict[str, Any]) -> None:
        """POST the webhook to every address subscribed to its topic, signed with the client secret."""
        body = json.dumps(payload).encode()
        signature = base64.b64encode(hmac.new(self.client_secret.encode(), body, hashlib.sha256).digest()).decode()
        event_id = str(uuid.uuid4())
        with self.lock:
            targets = [s for s in self.subscriptions if s["topic"] == topic]
        for subscription in targets:
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Topic": TOPICS[topic],
                "X-Shopify-Hmac-Sha256": signature,
                "X-Shopify-Event-Id": event_id,
                "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                "X-Shopify-Shop-Domain": self.shop_domain,
                "X-Shopify-API-Version": "2025-01",
                "X-Shopify-Triggered-At": now_iso(),
            }
            address = subscription["callbackUrl"]
            if self.deliver is not None:
                answer = self.deliver(address, headers, body)
            else:
                answer = httpx.post(address, content=body, headers=headers, timeout=10)
            self.deliveries.append((TOPICS[topic], address, int(getattr(answer, "status_code", 0))))

    # The API ------------------------------------------------------------------------------------

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers, body = fake.answer(self.path, self.headers.get("X-Shopify-Access-Token"), raw)
                payload = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def answer(self, path: str, token: str | None, raw: bytes) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            if path != API_PATH:
                return 404, {}, {"errors": "Not Found"}
            if token != self.access_token:
                return (
                    401,
                    {},
                    {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
                )
            if self.failures:
                status, retry_after = self.failures.pop(0)
                return status, {"Retry-After": retry_after}, {"errors": "Exceeded 2 calls per second for api client."}
            try:
                request = json.loads(raw)
                kind, selection = Reader(request["query"], request.get("variables") or {}).document()
            except (ValueError, KeyError, IndexError) as error:
                return 200, {}, {"errors": [{"message": f"Parse error: {error}"}]}
            cost = query_cost(selection, mutation=kind == "mutation")
            self.requests.append({"kind": kind, "fields": list(selection), "cost": cost})
            if cost > MAX_QUERY_COST:
                return (
                    200,
                    {},
                    self.with_cost(
                        {
                            "errors": [
                                {
                                    "message": f"Query cost is {cost}, which exceeds the single query max cost limit "
                                    f"({MAX_QUERY_COST}).",
                                    "extensions": {"code": "MAX_COST_EXCEEDED", "cost": cost},
                                }
                            ]
                        },
                        cost,
                    ),
                )
            self.refill()
            if cost > self.available:
                self.throttled += 1
                return (
                    200,
                    {},
                    self.with_cost({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}, cost),
                )
            self.available -= cost
            data = {}
            for name, field_ in selection.items():
                resolve = getattr(self, f"resolve_{name}", None)
                if resolve is None:
                    return 200, {}, {"errors": [{"message": f"Field '{name}' doesn't exist on type '{kind}'"}]}
                data[name] = prune(resolve(**field_.args), field_.selection)
            return 200, {}, self.with_cost({"data": data}, cost)

    def refill(self) -> None:
        now = self.clock()
        self.available = min(self.maximum, self.available + (now - self.filled_at) * self.restore_rate)
        self.filled_at = now

    def with_cost(self, body: dict[str, Any], cost: int) -> dict[str, Any]:
        body["extensions"] = {
            "cost": {
                "requestedQueryCost": cost,
                "actualQueryCost": None if "errors" in body else cost,
                "throttleStatus": {
                    "maximumAvailable": self.maximum,
                    "currentlyAvailable": int(self.available),
                    "restoreRate": self.restore_rate,
                },
            }
        }
        return body

    # Queries --------------------------------------------------------------------------------------

    def resolve_shop(self) -> dict[str, Any]:
        return {"name": "Kohsar", "myshopifyDomain": self.shop_domain, "fulfillmentServices": self.services}

    def resolve_webhookSubscriptions(self, first: int, after: str | None = None) -> dict[str, Any]:
        nodes = [
            {
                "id": s["id"],
                "topic": s["topic"],
                "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": s["callbackUrl"]},
            }
            for s in self.subscriptions
        ]
        return page(nodes, first, after)

    def order_graphql(self, order: Order) -> dict[str, Any]:
        rest, currency = order.fields, order.fields["currency"]
        address = rest.get("shipping_address")
        lines = [
            {
                "sku": line.get("sku"),
                "quantity": line["quantity"],
                "title": line.get("title"),
                "originalUnitPriceSet": money(line.get("price"), currency),
            }
            for line in rest["line_items"]
        ]
        return {
            "id": gid("Order", order.number),
            "legacyResourceId": str(order.number),
            "name": rest["name"],
            "email": rest.get("email"),
            "phone": rest.get("phone"),
            "currencyCode": currency,
            "displayFinancialStatus": str(rest["financial_status"]).upper(),
            "note": rest.get("note"),
            "cancelledAt": rest.get("cancelled_at"),
            "createdAt": rest["created_at"],
            "updatedAt": rest["updated_at"],
            "totalPriceSet": money(rest["total_price"], currency),
            "totalOutstandingSet": money(rest["total_outstanding"], currency),
            "totalShippingPriceSet": money(rest["total_shipping_price_set"]["shop_money"]["amount"], currency),
            "shippingAddress": None
            if address is None
            else {
                "name": address.get("name"),
                "firstName": address.get("first_name"),
                "lastName": address.get("last_name"),
                "address1": address.get("address1"),
                "address2": address.get("address2"),
                "city": address.get("city"),
                "province": address.get("province"),
                "zip": address.get("zip"),
                "countryCodeV2": address.get("country_code"),
                "phone": address.get("phone"),
                "latitude": address.get("latitude"),
                "longitude": address.get("longitude"),
            },
            "lineItems": Connection(lines),
            "fulfillmentOrders": Connection(
                [self.fulfillment_order_graphql(self.fulfillment_orders[i]) for i in order.fulfillment_orders]
            ),
        }

    def fulfillment_order_graphql(self, fulfillment_order: FulfillmentOrder) -> dict[str, Any]:
        return {
            "id": fulfillment_order.id,
            "status": fulfillment_order.status,
            "requestStatus": fulfillment_order.request_status,
            "assignedLocation": {"location": {"id": fulfillment_order.location_id}},
            "order": {
                "id": gid("Order", fulfillment_order.order_number),
                "legacyResourceId": str(fulfillment_order.order_number),
            },
        }

    def resolve_orders(
        self,
        first: int,
        after: str | None = None,
        sortKey: str = "ID",
        query: str = "",
        reverse: bool = False,
    ) -> dict[str, Any]:
        since = re.fullmatch(r"updated_at:>=['\"]?([^'\"]+)['\"]?", query.strip()) if query else None
        if query and since is None:
            raise ValueError(f"The fake does not understand the search {query!r}")
        orders = sorted(
            self.orders.values(),
            key=lambda o: (
                (datetime.fromisoformat(o.fields["updated_at"]), o.number) if sortKey == "UPDATED_AT" else (o.number,)
            ),
        )
        if since:
            floor = datetime.fromisoformat(since.group(1))
            orders = [o for o in orders if datetime.fromisoformat(o.fields["updated_at"]) >= floor]
        return page([self.order_graphql(o) for o in orders], first, after, key=self.order_key)

    @staticmethod
    def order_key(node: dict[str, Any]) -> str:
        stamp = datetime.fromisoformat(node["updatedAt"]).timestamp()
        return f"{stamp:020.6f}|{int(node['legacyResourceId']):020d}"

    def resolve_order(self, id: str) -> dict[str, Any] | None:
        number = int(id.rsplit("/", 1)[-1])
        return self.order_graphql(self.orders[number]) if number in self.orders else None

    def resolve_fulfillmentOrder(self, id: str) -> dict[str, Any] | None:
        found = self.fulfillment_orders.get(id)
        return self.fulfillment_order_graphql(found) if found else None

    def resolve_productVariants(self, first: int, query: str = "", after: str | None = None) -> dict[str, Any]:
        wanted = set(re.findall(r'sku:"([^"]*)"', query)) or set(re.findall(r"sku:'?([^\s']+)'?", query))
        nodes = [{"sku": sku, "inventoryItem": {"id": item}} for sku, item in self.variants.items() if sku in wanted]
        return page(nodes, first, after)

    # Mutations ------------------------------------------------------------------------------------

    @staticmethod
    def user_error(message: str, field_: list[str] | None = None) -> dict[str, Any]:
        return {"userErrors": [{"field": field_, "message": message, "code": "INVALID"}]}

    def resolve_fulfillmentServiceCreate(
        self,
        name: str,
        callbackUrl: str,
        trackingSupport: bool = False,
        inventoryManagement: bool = False,
    ) -> dict[str, Any]:
        if any(s["serviceName"] == name for s in self.services):
            return self.user_error("Name has already been taken", ["name"])
        service = {
            "id": gid("FulfillmentService", next(self.ids)) + "?id=true",
            "serviceName": name,
            "callbackUrl": callbackUrl,
            "trackingSupport": trackingSupport,
            "inventoryManagement": inventoryManagement,
            "location": {"id": gid("Location", next(self.ids))},
        }
        self.services.append(service)
        return {"fulfillmentService": service, "userErrors": []}

    def resolve_webhookSubscriptionCreate(self, topic: str, webhookSubscription: dict[str, Any]) -> dict[str, Any]:
        if topic not in TOPICS:
            return self.user_error(f"Topic {topic} is not supported by the fake", ["topic"])
        address = webhookSubscription["callbackUrl"]
        if any(s["topic"] == topic and s["callbackUrl"] == address for s in self.subscriptions):
            return self.user_error(
                "Address for this topic has already been taken", ["webhookSubscription", "callbackUrl"]
            )
        subscription = {
            "id": gid("WebhookSubscription", next(self.ids)),
            "topic": topic,
            "callbackUrl": address,
            "format": webhookSubscription.get("format", "JSON"),
        }
        self.subscriptions.append(subscription)
        return {"webhookSubscription": subscription, "userErrors": []}

    def resolve_fulfillmentCreate(self, fulfillment: dict[str, Any], message: str | None = None) -> dict[str, Any]:
        ids = [item["fulfillmentOrderId"] for item in fulfillment["lineItemsByFulfillmentOrder"]]
        for id_ in ids:
            found = self.fulfillment_orders.get(id_)
            if found is None:
                return self.user_error("Fulfillment order does not exist.", ["fulfillment"])
            if found.status not in ("OPEN", "IN_PROGRESS"):
                return self.user_error(f"Fulfillment order {id_} has an unfulfillable status= {found.status.lower()}.")
        for id_ in ids:
            self.fulfillment_orders[id_].status = "CLOSED"
            self.fulfillment_orders[id_].request_status = "CLOSED"
        made = Fulfillment(
            gid("Fulfillment", next(self.ids)),
            ids,
            dict(fulfillment.get("trackingInfo") or {}),
            bool(fulfillment.get("notifyCustomer")),
        )
        self.fulfillments.append(made)
        return {"fulfillment": {"id": made.id, "status": "SUCCESS"}, "userErrors": []}

    def resolve_inventorySetQuantities(self, input: dict[str, Any]) -> dict[str, Any]:
        if input.get("name") not in ("available", "on_hand"):
            return self.user_error("The quantity name must be either 'available' or 'on_hand'.", ["input", "name"])
        if not input.get("reason"):
            return self.user_error("A reason is required.", ["input", "reason"])
        if len(input["quantities"]) > 250:
            return self.user_error("The quantities can't exceed 250 items.", ["input", "quantities"])
        known = set(self.variants.values())
        for quantity in input["quantities"]:
            if quantity["inventoryItemId"] not in known:
                return self.user_error("The specified inventory item could not be found.", ["input", "quantities"])
        for quantity in input["quantities"]:
            self.levels[(quantity["inventoryItemId"], quantity["locationId"])] = int(quantity["quantity"])
        return {"inventoryAdjustmentGroup": {"reason": input["reason"]}, "userErrors": []}

    def answer_request(
        self, id: str, expected: str, request: str, status: str | None, message: str | None
    ) -> dict[str, Any]:
        found = self.fulfillment_orders.get(id)
        if found is None:
            return self.user_error("Fulfillment order does not exist.", ["id"])
        if found.request_status != expected:
            return self.user_error(f"Cannot answer: the request status is {found.request_status.lower()}.", ["id"])
        found.request_status = request
        if status:
            found.status = status
        found.messages.append(message or "")
        return {"fulfillmentOrder": self.fulfillment_order_graphql(found), "userErrors": []}

    def resolve_fulfillmentOrderAcceptFulfillmentRequest(self, id: str, message: str | None = None) -> dict[str, Any]:
        return self.answer_request(id, "SUBMITTED", "ACCEPTED", "IN_PROGRESS", message)

    def resolve_fulfillmentOrderRejectFulfillmentRequest(self, id: str, message: str | None = None) -> dict[str, Any]:
        return self.answer_request(id, "SUBMITTED", "REJECTED", None, message)

    def resolve_fulfillmentOrderAcceptCancellationRequest(self, id: str, message: str | None = None) -> dict[str, Any]:
        return self.answer_request(id, "CANCELLATION_REQUESTED", "CANCELLATION_ACCEPTED", "CANCELLED", message)

    def resolve_fulfillmentOrderRejectCancellationRequest(self, id: str, message: str | None = None) -> dict[str, Any]:
        return self.answer_request(id, "CANCELLATION_REQUESTED", "CANCELLATION_REJECTED", None, message)


def django_client_delivery(client: Any) -> Deliver:
    """Webhooks delivered through Django's test client (`Client()`), to the path of each address."""

    def post(address: str, headers: dict[str, str], body: bytes) -> Any:
        headers = {name: value for name, value in headers.items() if name != "Content-Type"}
        return client.post(urlsplit(address).path, body, content_type="application/json", headers=headers)

    return post


def served_fake_shopify(settings: Any) -> Iterator[FakeShopify]:
    """The body of a `fake_shopify` fixture (pytest-django's `settings` given): a fake shop served on
    127.0.0.1 standing in for https://kohsar.myshopify.com's API, stopped afterwards. Its webhooks go
    over real HTTP unless a test sets `fake_shopify.deliver` (see `django_client_delivery`)."""
    fake = FakeShopify()
    settings.ALLIED_API_ORIGINS = {
        **settings.ALLIED_API_ORIGINS,
        f"https://{fake.shop_domain}": fake.origin,
    }
    try:
        yield fake
    finally:
        fake.close()
