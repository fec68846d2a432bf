"""Shopify: webhooks signed with the app's client secret (X-Shopify-Hmac-Sha256), delivered at least
once and out of order, each event with its X-Shopify-Event-Id."""

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from allied.core.address import Address
from allied.integrations.connectors import (
    Action,
    Cancel,
    Ignore,
    MappingFailed,
    TakeIn,
    connector_register,
    hmac_sha256_base64_matches,
    store_amount,
    store_lines,
)
from allied.orders.models import Channel, PaymentMethod
from allied.orders.services.intake import OrderInput

ORDER_TOPICS = ("orders/create", "orders/updated")
CANCEL_TOPICS = ("orders/cancelled",)
FULFILLMENT_TOPICS = (
    "fulfillment_orders/fulfillment_request_submitted",
    "fulfillment_orders/cancellation_request_submitted",
)
# Shopify's mandatory privacy topics: kept for the privacy engine (issue 15), which will answer them.
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


def _coordinate(value: Any) -> Decimal | None:
    try:
        return None if value in (None, "") else round(Decimal(str(value)), 6)
    except InvalidOperation:
        return None


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
        if topic in PRIVACY_TOPICS:
            return Ignore("Kept for the privacy engine, which answers Shopify's privacy requests.")
        return Ignore(f"Allied does not act on {topic} yet.")


connector_register(Shopify())
