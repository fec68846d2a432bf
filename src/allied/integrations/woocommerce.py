"""WooCommerce: webhooks signed with the webhook's secret (X-WC-Webhook-Signature), never retried by
the store when they fail, each delivery with its X-WC-Webhook-Delivery-ID; the REST API v3
(`/wp-json/wc/v3`, Basic auth with the consumer key and secret over https) for the rest."""

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from allied.core.address import Address
from allied.core.outbound import OutboundError, OutboundHttp
from allied.integrations.connectors import (
    Action,
    Cancel,
    Ignore,
    MappingFailed,
    OrderPage,
    Shipment,
    StoreOrder,
    TakeIn,
    connector_register,
    hmac_sha256_base64_matches,
    store_amount,
    store_lines,
    tracking_link_shares,
)
from allied.orders.models import Channel, PaymentMethod
from allied.orders.services.intake import OrderInput

ORDER_TOPICS = ("order.created", "order.updated")
CANCEL_TOPICS = ("order.deleted",)


def order_input(payload: Mapping[str, Any]) -> OrderInput:
    """A WooCommerce order (REST v3 shape) as Allied's order input."""
    shipping = payload.get("shipping") or {}
    billing = payload.get("billing") or {}
    if not shipping.get("address_1"):
        raise MappingFailed("The order has no shipping address.")
    lines = store_lines(payload.get("line_items") or [], title="name")
    cod = payload.get("payment_method") == "cod"
    name = " ".join(filter(None, [shipping.get("first_name"), shipping.get("last_name")])).strip()
    return OrderInput(
        channel=Channel.WOOCOMMERCE,
        external_id=str(payload.get("id", "")),
        recipient_name=name or "—",
        recipient_phone=str(shipping.get("phone") or billing.get("phone") or ""),
        recipient_email=str(billing.get("email") or ""),
        address=Address.given(
            line1=str(shipping.get("address_1") or ""),
            line2=str(shipping.get("address_2") or ""),
            city=str(shipping.get("city") or ""),
            region=str(shipping.get("state") or ""),
            postcode=str(shipping.get("postcode") or ""),
            country=str(shipping.get("country") or "PK"),
        ),
        currency=str(payload.get("currency") or ""),
        payment_method=PaymentMethod.COD if cod else PaymentMethod.PREPAID,
        cod_amount=store_amount(payload.get("total"), "The total") if cod else Decimal(0),
        shipping_fee=store_amount(payload.get("shipping_total"), "The shipping total"),
        notes=str(payload.get("customer_note") or "")[:2000],
        lines=lines,
    )


API = "/wp-json/wc/v3"
WEBHOOK_TOPICS = ("order.created", "order.updated", "order.deleted")
PAGE_SIZE = 100  # the most a collection answers per page
BATCH_SIZE = 100  # the most a batch endpoint takes (WooCommerce answers 413 beyond)
SKUS_PER_QUERY = 50  # `sku=` takes a comma-separated list; kept well inside a URL's length


def gmt(value: Any) -> datetime | None:
    """A WooCommerce `*_gmt` date ("2017-03-22T19:28:08", no offset: it is UTC) as an aware datetime."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def tracking_note(shipment: Shipment) -> str:
    return f"Shipped with {shipment.company}, tracking {shipment.tracking_number}: {shipment.url}"


def _chunks[T](items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class WooCommerceClient:
    """One connection's conversation with a WooCommerce store's REST API v3. The consumer key and
    secret go as HTTP Basic auth, which WooCommerce accepts only over https (over http it wants
    OAuth 1.0a signatures): a store address that is not https is refused before anything is sent.
    Retries, 429 and Retry-After are `OutboundHttp`'s."""

    def __init__(self, connection: Any, *, sleep: Callable[[float], None] = time.sleep) -> None:
        if not str(connection.store_url).startswith("https://"):
            raise OutboundError(f"{connection.store_url} is not an https address: the keys would travel in clear.")
        self.connection = connection
        self.http = OutboundHttp(
            base_url=connection.store_url,
            recipient_category="store_platforms",
            organization_id=connection.organization_id,
            auth=(connection.credential("consumer_key"), connection.credential("consumer_secret")),
            sleep=sleep,
        )

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        shares: Iterable[str] = (),
        reference: str = "",
    ) -> tuple[Any, Mapping[str, str]]:
        response = self.http.request(method, API + path, params=params, json=json, shares=shares, reference=reference)
        try:
            return response.json(), response.headers
        except ValueError as error:
            raise OutboundError(f"{self.http.recipient} answered {path} with something not JSON") from error

    def _collection(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item of a collection, page after page as `X-WP-TotalPages` counts them."""
        page = 1
        while True:
            items, headers = self._call("GET", path, params={**params, "per_page": PAGE_SIZE, "page": page})
            yield from items
            if page >= int(headers.get("X-WP-TotalPages") or 1):
                return
            page += 1

    def check(self) -> str:
        """An authenticated read of one setting: it proves the keys and their user's right to
        manage the shop, and WooCommerce's "From" name for e-mail defaults to the site's title.
        (`system_status` would also do, but it tests outbound HTTP on every call.)"""
        setting, _ = self._call("GET", "/settings/email/woocommerce_email_from_name")
        return str(setting.get("value") or "") or urlsplit(self.connection.store_url).hostname or ""

    def setup(self, *, webhook_address: str) -> dict[str, Any]:
        """One webhook per order topic delivering to `webhook_address`, signed with the connection's
        webhook secret. One already there is kept (and reactivated when WooCommerce disabled it
        after failed deliveries), so setting up again creates nothing twice."""
        secret = self.connection.credential("webhook_secret")
        existing = {
            hook["topic"]: hook
            for hook in self._collection("/webhooks", {"status": "all"})
            if hook.get("delivery_url") == webhook_address and hook.get("topic") in WEBHOOK_TOPICS
        }
        ids = {}
        for topic in WEBHOOK_TOPICS:
            hook = existing.get(topic)
            if hook is None:
                hook, _ = self._call(
                    "POST",
                    "/webhooks",
                    json={
                        "name": f"Allied {topic}",
                        "topic": topic,
                        "delivery_url": webhook_address,
                        "secret": secret,
                        "status": "active",
                    },
                )
            elif hook.get("status") != "active":
                hook, _ = self._call("PUT", f"/webhooks/{hook['id']}", json={"status": "active", "secret": secret})
            ids[topic] = hook["id"]
        return {"webhook_ids": ids}

    def orders_updated_since(self, since: datetime, cursor: str | None) -> OrderPage:
        """WooCommerce's `modified_after` is exclusive and its dates whole seconds: asking from a
        second earlier includes the orders changed at `since` itself."""
        page = int(cursor or 1)
        after = (since.astimezone(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
        orders, headers = self._call(
            "GET",
            "/orders",
            params={
                "modified_after": after,
                "dates_are_gmt": "true",
                "orderby": "modified",
                "order": "asc",
                "per_page": PAGE_SIZE,
                "page": page,
            },
        )
        found = [
            StoreOrder(
                store_order_id=str(order["id"]),
                updated_at=gmt(order.get("date_modified_gmt")) or since,
                topic="order.updated",
                payload=order,
            )
            for order in orders
        ]
        more = page < int(headers.get("X-WP-TotalPages") or 1)
        return OrderPage(orders=found, cursor=str(page + 1) if more else None)

    def shipment_confirm(self, shipment: Shipment) -> None:
        """Completes the order and adds the tracking as a note to the customer (WooCommerce e-mails
        it). Each step is skipped when already done, so a retry neither notes nor e-mails twice."""
        path = f"/orders/{shipment.store_order_id}"
        order, _ = self._call("GET", path)
        if order.get("status") != "completed":
            self._call("PUT", path, json={"status": "completed"}, reference=shipment.order_number)
        note = tracking_note(shipment)
        notes, _ = self._call("GET", f"{path}/notes", params={"type": "customer"})
        if any(str(existing.get("note", "")).strip() == note for existing in notes):
            return
        self._call(
            "POST",
            f"{path}/notes",
            json={"note": note, "customer_note": True},
            shares=tracking_link_shares(shipment.url),
            reference=shipment.order_number,
        )

    def stock_set(self, available: Mapping[str, int]) -> list[str]:
        """Products are found by SKU in lists of SKUs; a SKU no product has is looked for among
        the variations of the variable products. Quantities go in batches of 100, with stock
        management switched on for each item (WooCommerce ignores a quantity without it)."""
        wanted = {sku: max(0, int(quantity)) for sku, quantity in available.items() if sku}
        products: dict[str, int] = {}
        for skus in _chunks(list(wanted), SKUS_PER_QUERY):
            for product in self._collection("/products", {"sku": ",".join(skus)}):
                if product.get("sku") in wanted:
                    products[product["sku"]] = product["id"]
        variations: dict[str, tuple[int, int]] = {}  # sku -> (product id, variation id)
        missing = [sku for sku in wanted if sku not in products]
        if missing:
            for parent in self._collection("/products", {"type": "variable"}):
                if not parent.get("variations"):
                    continue
                for skus in _chunks([sku for sku in missing if sku not in variations], SKUS_PER_QUERY):
                    for variation in self._collection(f"/products/{parent['id']}/variations", {"sku": ",".join(skus)}):
                        if variation.get("sku") in wanted:
                            variations[variation["sku"]] = (parent["id"], variation["id"])
                if all(sku in variations for sku in missing):
                    break
        errors = self._batch("/products/batch", [(products[sku], wanted[sku]) for sku in products])
        by_parent: dict[int, list[tuple[int, int]]] = {}
        for sku, (parent_id, variation_id) in variations.items():
            by_parent.setdefault(parent_id, []).append((variation_id, wanted[sku]))
        for parent_id, items in by_parent.items():
            errors += self._batch(f"/products/{parent_id}/variations/batch", items)
        if errors:
            raise OutboundError(f"{self.http.recipient} refused some stock updates: {'; '.join(errors)[:300]}")
        return [sku for sku in wanted if sku not in products and sku not in variations]

    def _batch(self, path: str, items: list[tuple[int, int]]) -> list[str]:
        """Send `(id, quantity)` updates in batches; WooCommerce answers each item on its own, an
        item it refused carrying an `error`."""
        errors = []
        for chunk in _chunks(items, BATCH_SIZE):
            update = [{"id": item_id, "manage_stock": True, "stock_quantity": quantity} for item_id, quantity in chunk]
            answer, _ = self._call("POST", path, json={"update": update})
            errors += [
                f"{item.get('id')}: {(item.get('error') or {}).get('message', '')}"
                for item in answer.get("update") or []
                if item.get("error")
            ]
        return errors

    def close(self) -> None:
        self.http.close()


class WooCommerce:
    kind = "woocommerce"
    credential_names: tuple[str, ...] = ("consumer_key", "consumer_secret", "webhook_secret")
    webhook_secret = "webhook_secret"  # noqa: S105 (a credential's name)
    topics = frozenset((*ORDER_TOPICS, *CANCEL_TOPICS))

    def is_ping(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """The delivery WooCommerce sends when a webhook is created: a form body, no topic."""
        return not headers.get("X-WC-Webhook-Topic") and body.startswith(b"webhook_id=")

    def signature_valid(self, body: bytes, headers: Mapping[str, str], secrets: list[str]) -> bool:
        return hmac_sha256_base64_matches(body, headers.get("X-WC-Webhook-Signature", ""), secrets)

    def topic(self, headers: Mapping[str, str]) -> str:
        return headers.get("X-WC-Webhook-Topic", "")

    def delivery_key(self, headers: Mapping[str, str]) -> str:
        return headers.get("X-WC-Webhook-Delivery-ID", "")

    def store_order_id(self, topic: str, payload: Mapping[str, Any]) -> str:
        return str(payload.get("id", "")) if topic in ORDER_TOPICS + CANCEL_TOPICS else ""

    def action(self, topic: str, payload: Mapping[str, Any]) -> Action:
        if topic in CANCEL_TOPICS or (topic in ORDER_TOPICS and payload.get("status") in {"cancelled", "trash"}):
            return Cancel(str(payload.get("id", "")))
        if topic in ORDER_TOPICS:
            return TakeIn(order_input(payload))
        return Ignore(f"Allied does not act on {topic} yet.")

    def updated_at(self, payload: Mapping[str, Any]) -> datetime | None:
        return gmt(payload.get("date_modified_gmt"))

    def client(self, connection: Any) -> WooCommerceClient:
        return WooCommerceClient(connection)


connector_register(WooCommerce())
