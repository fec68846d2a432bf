"""WooCommerce: webhooks signed with the webhook's secret (X-WC-Webhook-Signature), never retried by
the store when they fail, each delivery with its X-WC-Webhook-Delivery-ID."""

from collections.abc import Mapping
from decimal import Decimal
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


connector_register(WooCommerce())
