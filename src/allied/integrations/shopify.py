"""Shopify: webhooks signed with the app's client secret (X-Shopify-Hmac-Sha256), delivered at least
once and out of order, each event with its X-Shopify-Event-Id; and the GraphQL Admin API, which Allied
uses as the store's fulfillment service (fulfillment requests, tracking, stock at its own location)."""

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from allied.core.address import Address
from allied.core.outbound import OutboundError, OutboundHttp
from allied.integrations.connectors import (
    Action,
    Cancel,
    FulfillmentRequest,
    Ignore,
    MappingFailed,
    OrderPage,
    PrivacyKind,
    PrivacyRequest,
    Shipment,
    StoreOrder,
    TakeIn,
    Uninstalled,
    connector_register,
    hmac_sha256_base64_matches,
    store_amount,
    store_lines,
    tracking_link_shares,
)
from allied.orders.models import Channel, PaymentMethod
from allied.orders.services.intake import OrderInput

ORDER_TOPICS = ("orders/create", "orders/updated")
CANCEL_TOPICS = ("orders/cancelled",)
FULFILLMENT_TOPICS = (
    "fulfillment_orders/fulfillment_request_submitted",
    "fulfillment_orders/cancellation_request_submitted",
)
# Shopify's mandatory privacy topics, passed on to the privacy engine.
PRIVACY_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")
PAID = {"paid", "partially_refunded", "refunded", "partially_paid"}


def _shipping_fee(payload: Mapping[str, Any]) -> Decimal:
    shipping = payload.get("total_shipping_price_set") or {}
    amount = (shipping.get("shop_money") or {}).get("amount")
    if amount is not None:
        return store_amount(amount, "The shipping price")
    return sum(
        (store_amount(line.get("price"), "A shipping line") for line in payload.get("shipping_lines") or []), Decimal(0)
    )


def order_input(payload: Mapping[str, Any]) -> OrderInput:
    """A Shopify order (REST webhook shape) as Allied's order input."""
    address = payload.get("shipping_address")
    if not isinstance(address, Mapping):
        raise MappingFailed("The order has no shipping address (a pickup or digital order?).")
    customer = payload.get("customer") or {}
    name = (
        address.get("name") or " ".join(filter(None, [address.get("first_name"), address.get("last_name")]))
    ).strip()
    lines = store_lines(payload.get("line_items") or [], title="title")
    total = store_amount(payload.get("total_outstanding", payload.get("total_price")), "The total")
    paid = payload.get("financial_status") in PAID or total <= 0
    return OrderInput(
        channel=Channel.SHOPIFY,
        external_id=str(payload.get("id", "")),
        recipient_name=name or "—",
        recipient_phone=str(address.get("phone") or payload.get("phone") or customer.get("phone") or ""),
        recipient_email=str(payload.get("email") or payload.get("contact_email") or ""),
        address=Address.given(
            line1=str(address.get("address1") or ""),
            line2=str(address.get("address2") or ""),
            city=str(address.get("city") or ""),
            region=str(address.get("province") or ""),
            postcode=str(address.get("zip") or ""),
            country=str(address.get("country_code") or "PK"),
            lat=_coordinate(address.get("latitude")),
            lng=_coordinate(address.get("longitude")),
        ),
        currency=str(payload.get("currency") or ""),
        payment_method=PaymentMethod.PREPAID if paid else PaymentMethod.COD,
        cod_amount=Decimal(0) if paid else total,
        shipping_fee=_shipping_fee(payload),
        notes=str(payload.get("note") or "")[:2000],
        lines=lines,
    )


def privacy_request(topic: str, payload: Mapping[str, Any]) -> PrivacyRequest:
    """One of Shopify's mandatory privacy webhooks as a privacy request. customers/data_request
    carries {shop_id, shop_domain, orders_requested, customer {id, email, phone}, data_request {id}};
    customers/redact {shop_id, shop_domain, customer {id, email, phone}, orders_to_redact};
    shop/redact {shop_id, shop_domain}, 48 hours after the shop removed the app."""
    if topic == "shop/redact":
        shop = payload.get("shop_id") or payload.get("shop_domain")
        if not shop:
            raise MappingFailed("shop/redact names no shop.")
        return PrivacyRequest(kind=PrivacyKind.SHOP, store_reference=f"shop/redact:{shop}")
    customer = payload.get("customer")
    if not isinstance(customer, Mapping):
        raise MappingFailed(f"{topic} names no customer.")
    email, phone = str(customer.get("email") or "").strip(), str(customer.get("phone") or "").strip()
    if not email and not phone:
        raise MappingFailed(f"{topic} gives neither the customer's e-mail nor their phone.")
    if topic == "customers/data_request":
        request_id = (payload.get("data_request") or {}).get("id")
        if not request_id:
            raise MappingFailed("customers/data_request has no data_request id.")
        return PrivacyRequest(
            kind=PrivacyKind.ACCESS,
            store_reference=f"customers/data_request:{request_id}",
            email=email,
            phone=phone,
            store_order_ids=_ids(payload.get("orders_requested")),
        )
    # customers/redact has no request id; the customer's id (or, when absent, their e-mail) names it.
    return PrivacyRequest(
        kind=PrivacyKind.DELETION,
        store_reference=f"customers/redact:{customer.get('id') or email or phone}",
        email=email,
        phone=phone,
        store_order_ids=_ids(payload.get("orders_to_redact")),
    )


def _ids(values: Any) -> tuple[str, ...]:
    if not isinstance(values, list):
        return ()
    return tuple(str(value) for value in values if isinstance(value, int | str) and str(value))


def _coordinate(value: Any) -> Decimal | None:
    try:
        return None if value in (None, "") else round(Decimal(str(value)), 6)
    except InvalidOperation:
        return None


def _updated_at(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


# The GraphQL Admin API ---------------------------------------------------------------------------

API_PATH = "/admin/api/2025-01/graphql.json"
SERVICE_NAME = "Allied"
# What Allied subscribes through the API. The mandatory privacy topics (customers/data_request,
# customers/redact, shop/redact) cannot be: they are set in the app's shopify.app.toml.
WEBHOOK_TOPICS = (
    "ORDERS_CREATE",
    "ORDERS_UPDATED",
    "ORDERS_CANCELLED",
    "FULFILLMENT_ORDERS_FULFILLMENT_REQUEST_SUBMITTED",
    "FULFILLMENT_ORDERS_CANCELLATION_REQUEST_SUBMITTED",
    "APP_UNINSTALLED",
)
# A query's requested cost must stay under Shopify's single-query maximum (1,000 points): a page of
# 10 orders with up to 25 lines each costs about 850; an order with more lines gets them fetched apart.
ORDERS_PER_PAGE = 10
LINES_PER_ORDER = 25
SKUS_PER_LOOKUP = 50
QUANTITIES_PER_SET = 250
THROTTLED_RETRIES = 5

USER_ERRORS = "userErrors { field message }"
MONEY = "shopMoney { amount currencyCode }"
ORDER_FIELDS = f"""
    id legacyResourceId name email phone currencyCode displayFinancialStatus note
    cancelledAt createdAt updatedAt
    totalPriceSet {{ {MONEY} }} totalOutstandingSet {{ {MONEY} }} totalShippingPriceSet {{ {MONEY} }}
    shippingAddress {{
        name firstName lastName address1 address2 city province zip countryCodeV2 phone latitude longitude
    }}
"""
LINE_FIELDS = f"nodes {{ sku quantity title originalUnitPriceSet {{ {MONEY} }} }} pageInfo {{ hasNextPage endCursor }}"

CHECK = "query Check { shop { name } }"
SETUP_STATE = """
query SetupState {
  shop { fulfillmentServices { id serviceName callbackUrl location { id } } }
  webhookSubscriptions(first: 100) {
    nodes { id topic endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } }
  }
}"""
SERVICE_CREATE = f"""
mutation ServiceCreate($name: String!, $callbackUrl: URL!) {{
  fulfillmentServiceCreate(name: $name, callbackUrl: $callbackUrl, trackingSupport: true, inventoryManagement: true) {{
    fulfillmentService {{ id serviceName location {{ id }} }}
    {USER_ERRORS}
  }}
}}"""
WEBHOOK_CREATE = f"""
mutation WebhookCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {{
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {{
    webhookSubscription {{ id topic }}
    {USER_ERRORS}
  }}
}}"""
ORDERS = f"""
query Orders($query: String!, $after: String) {{
  orders(first: {ORDERS_PER_PAGE}, after: $after, sortKey: UPDATED_AT, query: $query) {{
    nodes {{ {ORDER_FIELDS} lineItems(first: {LINES_PER_ORDER}) {{ {LINE_FIELDS} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""
ORDER_LINES = f"""
query OrderLines($id: ID!, $after: String) {{
  order(id: $id) {{ lineItems(first: 100, after: $after) {{ {LINE_FIELDS} }} }}
}}"""
FULFILLMENT_ORDERS = """
query FulfillmentOrders($id: ID!) {
  order(id: $id) {
    fulfillmentOrders(first: 10) { nodes { id status assignedLocation { location { id } } } }
  }
}"""
FULFILLMENT_CREATE = f"""
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {{
  fulfillmentCreate(fulfillment: $fulfillment) {{
    fulfillment {{ id status }}
    {USER_ERRORS}
  }}
}}"""
VARIANTS = """
query Variants($query: String!) {
  productVariants(first: 100, query: $query) { nodes { sku inventoryItem { id } } }
}"""
QUANTITIES_SET = """
mutation QuantitiesSet($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { reason }
    userErrors { code field message }
  }
}"""
FULFILLMENT_ORDER_ORDER = """
query FulfillmentOrderOrder($id: ID!) { fulfillmentOrder(id: $id) { id order { legacyResourceId } } }"""
ANSWERS = {
    (False, True): "fulfillmentOrderAcceptFulfillmentRequest",
    (False, False): "fulfillmentOrderRejectFulfillmentRequest",
    (True, True): "fulfillmentOrderAcceptCancellationRequest",
    (True, False): "fulfillmentOrderRejectCancellationRequest",
}


def _answer_mutation(field: str) -> str:
    name = field[0].upper() + field[1:]
    return f"""
mutation {name}($id: ID!, $message: String) {{
  {field}(id: $id, message: $message) {{
    fulfillmentOrder {{ id status requestStatus }}
    {USER_ERRORS}
  }}
}}"""


def order_gid(store_order_id: str) -> str:
    return f"gid://shopify/Order/{store_order_id}"


def _money(node: Mapping[str, Any], field: str) -> dict[str, Any]:
    return dict((node.get(field) or {}).get("shopMoney") or {})


def rest_order(node: Mapping[str, Any], lines: list[Mapping[str, Any]]) -> dict[str, Any]:
    """A GraphQL order in the shape of the REST webhook body that `order_input` reads."""
    address = node.get("shippingAddress")
    shipping = _money(node, "totalShippingPriceSet")
    return {
        "id": int(node["legacyResourceId"]),
        "admin_graphql_api_id": node.get("id"),
        "name": node.get("name"),
        "email": node.get("email"),
        "phone": node.get("phone"),
        "currency": node.get("currencyCode"),
        "financial_status": str(node.get("displayFinancialStatus") or "").lower() or None,
        "total_price": _money(node, "totalPriceSet").get("amount"),
        "total_outstanding": _money(node, "totalOutstandingSet").get("amount"),
        "total_shipping_price_set": {
            "shop_money": {"amount": shipping.get("amount"), "currency_code": shipping.get("currencyCode")}
        },
        "note": node.get("note"),
        "cancelled_at": node.get("cancelledAt"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "shipping_address": None
        if not isinstance(address, Mapping)
        else {
            "name": address.get("name"),
            "first_name": address.get("firstName"),
            "last_name": address.get("lastName"),
            "address1": address.get("address1"),
            "address2": address.get("address2"),
            "city": address.get("city"),
            "province": address.get("province"),
            "zip": address.get("zip"),
            "country_code": address.get("countryCodeV2"),
            "phone": address.get("phone"),
            "latitude": address.get("latitude"),
            "longitude": address.get("longitude"),
        },
        "line_items": [
            {
                "sku": line.get("sku"),
                "quantity": line.get("quantity"),
                "price": _money(line, "originalUnitPriceSet").get("amount"),
                "title": line.get("title"),
            }
            for line in lines
        ],
    }


def _batches[T](items: list[T], size: int) -> Iterable[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ShopifyClient:
    """One connection's conversation with Shopify's GraphQL Admin API. Shopify meters each shop's
    queries by cost (a bucket of points that refills at `restoreRate` per second): the client keeps
    the last throttle status and each operation's cost, waits before a query the bucket cannot pay
    for, and waits and retries a query answered THROTTLED. HTTP 429 and 5xx are `OutboundHttp`'s."""

    def __init__(
        self,
        connection: Any,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.connection = connection
        self.remote: dict[str, Any] = dict(connection.remote or {})
        self.sleep = sleep
        self.clock = clock
        self.http = OutboundHttp(
            base_url=connection.store_url,
            recipient_category="store_platforms",
            organization_id=connection.organization_id,
            headers={"X-Shopify-Access-Token": connection.credential("access_token")},
            sleep=sleep,
        )
        self.costs: dict[str, float] = {}  # operation -> its last requested cost
        self.budget: tuple[float, float, float, float] | None = None  # available, restore rate, maximum, at

    # The transport ------------------------------------------------------------------------------

    def query(
        self,
        operation: str,
        document: str,
        variables: Mapping[str, Any] | None = None,
        *,
        shares: Iterable[str] = (),
        reference: str = "",
    ) -> dict[str, Any]:
        """Run one GraphQL operation; its `errors` raise `OutboundError` with their messages."""
        categories = list(shares)
        for attempt in range(THROTTLED_RETRIES + 1):
            self._wait_for_budget(operation)
            response = self.http.request(
                "POST",
                API_PATH,
                json={"query": document, "variables": dict(variables or {})},
                shares=categories if attempt == 0 else (),  # one transmission, however often retried
                reference=reference,
            )
            try:
                body = response.json()
            except ValueError as error:
                raise OutboundError(f"Shopify answered {operation} with something not JSON") from error
            cost = (body.get("extensions") or {}).get("cost") or {}
            self._note_cost(operation, cost)
            errors = body.get("errors") or []
            if isinstance(errors, list) and errors and all(_code(error) == "THROTTLED" for error in errors):
                if attempt < THROTTLED_RETRIES:
                    self.sleep(self._throttled_wait(operation, cost))
                    continue
                raise OutboundError(f"Shopify kept {operation} throttled {THROTTLED_RETRIES + 1} times", status=429)
            if errors:
                messages = [error.get("message", "") for error in errors] if isinstance(errors, list) else [errors]
                raise OutboundError(f"Shopify refused {operation}: {'; '.join(map(str, messages))}")
            return dict(body.get("data") or {})
        raise AssertionError("unreachable")

    def _note_cost(self, operation: str, cost: Mapping[str, Any]) -> None:
        status = cost.get("throttleStatus") or {}
        if cost.get("requestedQueryCost") is not None:
            self.costs[operation] = float(cost["requestedQueryCost"])
        if status:
            self.budget = (
                float(status["currentlyAvailable"]),
                float(status["restoreRate"]) or 1.0,
                float(status["maximumAvailable"]),
                self.clock(),
            )

    def _available(self) -> float:
        assert self.budget is not None
        available, rate, maximum, at = self.budget
        return min(maximum, available + rate * max(0.0, self.clock() - at))

    def _wait_for_budget(self, operation: str) -> None:
        needed = self.costs.get(operation)
        if needed is None or self.budget is None:
            return
        available, (_, rate, maximum, _) = self._available(), self.budget
        if needed > maximum:
            raise OutboundError(f"{operation} costs {needed:.0f} points, more than the shop's {maximum:.0f}")
        if needed > available:
            self.sleep((needed - available) / rate)
            self.budget = (needed, rate, maximum, self.clock())

    def _throttled_wait(self, operation: str, cost: Mapping[str, Any]) -> float:
        status = cost.get("throttleStatus") or {}
        needed = float(cost.get("requestedQueryCost") or self.costs.get(operation) or 1)
        if not status:
            return 1.0
        available, rate, maximum = (
            float(status["currentlyAvailable"]),
            float(status["restoreRate"]) or 1.0,
            float(status["maximumAvailable"]),
        )
        if needed > maximum:
            raise OutboundError(f"{operation} costs {needed:.0f} points, more than the shop's {maximum:.0f}")
        wait = max(0.0, needed - available) / rate
        self.budget = (needed, rate, maximum, self.clock() + wait)
        return wait

    def mutate(self, operation: str, document: str, field: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """Run a mutation; its `userErrors` raise `OutboundError` with their messages."""
        result = self.query(operation, document, variables).get(field) or {}
        if errors := result.get("userErrors"):
            raise OutboundError(f"Shopify refused {field}: {'; '.join(str(error.get('message')) for error in errors)}")
        return dict(result)

    # The conversation ---------------------------------------------------------------------------

    def check(self) -> str:
        return str(self.query("Check", CHECK)["shop"]["name"])

    def setup(self, *, webhook_address: str, callback_url: str | None = None) -> dict[str, Any]:
        """Register Allied as the shop's fulfillment service (its own location, where Allied's stock
        is shown) and subscribe the webhooks; what already exists is reused, so running it again
        changes nothing."""
        state = self.query("SetupState", SETUP_STATE)
        services = (state.get("shop") or {}).get("fulfillmentServices") or []
        known = self.remote.get("fulfillment_service_id")
        service = next((s for s in services if s["id"] == known), None) or next(
            (s for s in services if s.get("serviceName") == SERVICE_NAME), None
        )
        if service is None:
            service = self.mutate(
                "ServiceCreate",
                SERVICE_CREATE,
                "fulfillmentServiceCreate",
                {"name": SERVICE_NAME, "callbackUrl": callback_url or webhook_address.removesuffix("/webhooks")},
            )["fulfillmentService"]
        subscribed = {
            node["topic"]: node["id"]
            for node in (state.get("webhookSubscriptions") or {}).get("nodes") or []
            if (node.get("endpoint") or {}).get("callbackUrl") == webhook_address
        }
        webhook_ids = {}
        for topic in WEBHOOK_TOPICS:
            if topic not in subscribed:
                created = self.mutate(
                    "WebhookCreate",
                    WEBHOOK_CREATE,
                    "webhookSubscriptionCreate",
                    {"topic": topic, "webhookSubscription": {"callbackUrl": webhook_address, "format": "JSON"}},
                )
                subscribed[topic] = created["webhookSubscription"]["id"]
            webhook_ids[topic] = subscribed[topic]
        self.remote.update(fulfillment_service_id=service["id"], location_id=(service.get("location") or {}).get("id"))
        return {
            "fulfillment_service_id": service["id"],
            "location_id": self.remote["location_id"],
            "webhook_ids": webhook_ids,
        }

    def orders_updated_since(self, since: datetime, cursor: str | None) -> OrderPage:
        """Orders changed at or after `since`, oldest change first, each as an `orders/updated`
        webhook body."""
        found = self.query("Orders", ORDERS, {"query": f"updated_at:>='{since.isoformat()}'", "after": cursor})[
            "orders"
        ]
        orders = []
        for node in found.get("nodes") or []:
            page = node.get("lineItems") or {}
            lines = list(page.get("nodes") or [])
            while (page.get("pageInfo") or {}).get("hasNextPage"):
                page = self.query(
                    "OrderLines", ORDER_LINES, {"id": node["id"], "after": page["pageInfo"]["endCursor"]}
                )["order"]["lineItems"]
                lines += page.get("nodes") or []
            payload = rest_order(node, lines)
            orders.append(
                StoreOrder(
                    store_order_id=str(payload["id"]),
                    updated_at=_updated_at(payload["updated_at"]) or since,
                    topic="orders/updated",
                    payload=payload,
                )
            )
        info = found.get("pageInfo") or {}
        return OrderPage(orders=orders, cursor=info.get("endCursor") if info.get("hasNextPage") else None)

    def location_id(self) -> str:
        """Allied's location in the shop (its fulfillment service's), as `setup` kept it."""
        if not self.remote.get("location_id"):
            raise OutboundError("Allied is not yet the shop's fulfillment service: set the connection up first.")
        return str(self.remote["location_id"])

    def shipment_confirm(self, shipment: Shipment) -> None:
        """Fulfil the order's fulfillment orders assigned to Allied, with the tracking; one already
        closed is skipped, so confirming again sends nothing."""
        location = self.location_id()
        order = self.query("FulfillmentOrders", FULFILLMENT_ORDERS, {"id": order_gid(shipment.store_order_id)})
        if not order.get("order"):
            raise OutboundError(f"Shopify has no order {shipment.store_order_id}", status=404)
        open_ids = [
            node["id"]
            for node in order["order"]["fulfillmentOrders"]["nodes"]
            if ((node.get("assignedLocation") or {}).get("location") or {}).get("id") == location
            and node["status"] in ("OPEN", "IN_PROGRESS")
        ]
        if not open_ids:
            return
        fulfillment = {
            "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": id_} for id_ in open_ids],
            "trackingInfo": {"number": shipment.tracking_number, "company": shipment.company, "url": shipment.url},
            "notifyCustomer": True,
        }
        shares = tracking_link_shares(shipment.url)
        result = (
            self.query(
                "FulfillmentCreate",
                FULFILLMENT_CREATE,
                {"fulfillment": fulfillment},
                shares=shares,
                reference=shipment.order_number,
            ).get("fulfillmentCreate")
            or {}
        )
        if errors := result.get("userErrors"):
            raise OutboundError(
                f"Shopify refused fulfillmentCreate: {'; '.join(str(e.get('message')) for e in errors)}"
            )

    def stock_set(self, available: Mapping[str, int]) -> list[str]:
        """Set each SKU's available quantity at Allied's location; returns the SKUs Shopify lacks."""
        location = self.location_id()
        items: dict[str, str] = {}
        skus = sorted(available)
        for batch in _batches(skus, SKUS_PER_LOOKUP):
            search = " OR ".join('sku:"{}"'.format(sku.replace('"', "")) for sku in batch)
            for node in self.query("Variants", VARIANTS, {"query": search})["productVariants"]["nodes"]:
                if node.get("sku") in available and node.get("inventoryItem"):
                    items.setdefault(node["sku"], node["inventoryItem"]["id"])
        quantities = [
            {"inventoryItemId": items[sku], "locationId": location, "quantity": max(0, int(available[sku]))}
            for sku in skus
            if sku in items
        ]
        for chunk in _batches(quantities, QUANTITIES_PER_SET):
            self.mutate(
                "QuantitiesSet",
                QUANTITIES_SET,
                "inventorySetQuantities",
                {
                    "input": {
                        "name": "available",
                        "reason": "correction",
                        "ignoreCompareQuantity": True,
                        "quantities": chunk,
                    }
                },
            )
        return [sku for sku in skus if sku not in items]

    def fulfillment_order_store_order_id(self, fulfillment_order_id: str) -> str:
        found = self.query("FulfillmentOrderOrder", FULFILLMENT_ORDER_ORDER, {"id": fulfillment_order_id})
        if not found.get("fulfillmentOrder"):
            raise OutboundError(f"Shopify has no fulfillment order {fulfillment_order_id}", status=404)
        return str(found["fulfillmentOrder"]["order"]["legacyResourceId"])

    def fulfillment_request_answer(self, fulfillment_order_id: str, *, accept: bool, message: str = "") -> str:
        """Accept or reject the shop's request to fulfil; returns the fulfillment order's request status."""
        return self._answer(fulfillment_order_id, cancellation=False, accept=accept, message=message)

    def cancellation_request_answer(self, fulfillment_order_id: str, *, accept: bool, message: str = "") -> str:
        """Accept or reject the shop's request to cancel; returns the fulfillment order's request status."""
        return self._answer(fulfillment_order_id, cancellation=True, accept=accept, message=message)

    def _answer(self, fulfillment_order_id: str, *, cancellation: bool, accept: bool, message: str) -> str:
        field = ANSWERS[(cancellation, accept)]
        result = self.mutate(
            field[0].upper() + field[1:],
            _answer_mutation(field),
            field,
            {"id": fulfillment_order_id, "message": message or None},
        )
        return str((result.get("fulfillmentOrder") or {}).get("requestStatus") or "")

    def close(self) -> None:
        self.http.close()


def _code(error: Any) -> str:
    return str(((error or {}).get("extensions") or {}).get("code") or "") if isinstance(error, Mapping) else ""


class Shopify:
    kind = "shopify"
    credential_names: tuple[str, ...] = ("access_token", "client_secret")
    webhook_secret = "client_secret"  # noqa: S105 (a credential's name)
    topics = frozenset((*ORDER_TOPICS, *CANCEL_TOPICS, *FULFILLMENT_TOPICS, *PRIVACY_TOPICS, "app/uninstalled"))

    def is_ping(self, body: bytes, headers: Mapping[str, str]) -> bool:
        return False

    def signature_valid(self, body: bytes, headers: Mapping[str, str], secrets: list[str]) -> bool:
        return hmac_sha256_base64_matches(body, headers.get("X-Shopify-Hmac-Sha256", ""), secrets)

    def topic(self, headers: Mapping[str, str]) -> str:
        return headers.get("X-Shopify-Topic", "")

    def delivery_key(self, headers: Mapping[str, str]) -> str:
        # The same event delivered again carries the same event id; older deliveries lack it.
        return headers.get("X-Shopify-Event-Id") or headers.get("X-Shopify-Webhook-Id", "")

    def store_order_id(self, topic: str, payload: Mapping[str, Any]) -> str:
        return str(payload.get("id", "")) if topic in ORDER_TOPICS + CANCEL_TOPICS else ""

    def action(self, topic: str, payload: Mapping[str, Any]) -> Action:
        if topic in CANCEL_TOPICS:
            return Cancel(str(payload.get("id", "")))
        if topic in ORDER_TOPICS:
            if payload.get("cancelled_at"):
                return Cancel(str(payload.get("id", "")))
            return TakeIn(order_input(payload))
        if topic in FULFILLMENT_TOPICS:
            # fulfillment_request_submitted names the `original_fulfillment_order` (and the
            # `submitted_fulfillment_order` split from it); cancellation_request_submitted the `fulfillment_order`.
            order = payload.get("original_fulfillment_order") or payload.get("fulfillment_order") or {}
            if not order.get("id"):
                return Ignore(f"{topic} without a fulfillment order.")
            request = payload.get("fulfillment_order_merchant_request") or {}
            return FulfillmentRequest(
                fulfillment_order_id=str(order["id"]),
                cancellation=topic == "fulfillment_orders/cancellation_request_submitted",
                message=str(request.get("message") or ""),
            )
        if topic in PRIVACY_TOPICS:
            return privacy_request(topic, payload)
        if topic == "app/uninstalled":
            return Uninstalled()
        return Ignore(f"Allied does not act on {topic} yet.")

    def updated_at(self, payload: Mapping[str, Any]) -> datetime | None:
        return _updated_at(payload.get("updated_at"))

    def client(self, connection: Any) -> ShopifyClient:
        return ShopifyClient(connection)


connector_register(Shopify())
