"""Store webhooks through their door: verified, kept raw, answered at once, applied once by a task."""

import base64
import hashlib
import hmac
import json
import random
import uuid
from typing import Any

import pytest
from django.test import Client

from allied.accounts.policy import Actor
from allied.core.worker import HeartbeatWorker
from allied.integrations.connectors import hmac_sha256_base64_matches
from allied.integrations.models import Connection, ConnectionKind, InboxMessage, InboxStatus
from allied.integrations.services.connections import (
    connection_create,
    connection_pause,
    connection_rotate_webhook_secret,
)
from allied.inventory.models import Stock
from allied.orders.models import Order, OrderStatus
from tests.catalog.factories import ProductFactory
from tests.integrations.conftest import CLIENT_SECRET

pytestmark = pytest.mark.django_db(transaction=True)


WOO_SECRET = "woo-webhook-secret-5678"


def run_tasks() -> None:
    HeartbeatWorker(batch=True, interval=0).run()


@pytest.fixture
def stocked(partner_a, floor, stock_in) -> None:
    for sku in ("TEE-BLK-M", "CAP-RED"):
        stock_in(ProductFactory(organization=partner_a, sku=sku), 10)


@pytest.fixture
def woo(partner_a, owner) -> Connection:
    return connection_create(
        organization=partner_a,
        kind=ConnectionKind.WOOCOMMERCE,
        name="Kohsar Woo",
        store_url="https://shop.kohsar.example",
        credentials={
            "consumer_key": "ck_test_key_1111",
            "consumer_secret": "cs_test_secret_2222",
            "webhook_secret": WOO_SECRET,
        },
        actor=owner,
    )


def shopify_order(order_id: int = 820982911946154508, **changes: Any) -> dict[str, Any]:
    """The shape of Shopify's orders/create example body (REST Admin API 2025-01), trimmed to
    what Allied reads plus some of what it ignores."""
    body = {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "email": "jon@example.com",
        "created_at": "2026-12-05T10:00:00-05:00",
        "updated_at": "2026-12-05T10:00:00-05:00",
        "cancelled_at": None,
        "currency": "PKR",
        "financial_status": "pending",
        "total_price": "4400.00",
        "total_outstanding": "4400.00",
        "note": "Ring twice",
        "phone": None,
        "total_shipping_price_set": {"shop_money": {"amount": "200.00", "currency_code": "PKR"}},
        "customer": {"id": 115310627314723954, "phone": None},
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
            {"id": 866550311766439020, "title": "Tee", "sku": "TEE-BLK-M", "quantity": 2, "price": "1500.00"},
            {"id": 141249953214522974, "title": "Cap", "sku": "CAP-RED", "quantity": 1, "price": "1200.00"},
        ],
    }
    body.update(changes)
    return body


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def deliver(
    connection: Connection, topic: str, payload: Any, *, event_id: str | None = None, secret: str = CLIENT_SECRET
) -> Any:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(body, secret),
        "X-Shopify-Shop-Domain": "kohsar.myshopify.com",
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-API-Version": "2025-01",
    }
    return Client().post(
        f"/integrations/shopify/{connection.public_id}/webhooks", body, content_type="application/json", headers=headers
    )


def test_a_known_hmac_vector_is_accepted() -> None:
    # Computed with: printf '<body>' | openssl dgst -sha256 -hmac hush -binary | base64
    body = b'{"id":820982911946154508,"email":"jon@example.com"}'

    assert hmac_sha256_base64_matches(body, "D0UMXmhjwBRi4y66TmhJrDlhQABD7zI2fm3p6/QLMo8=", ["hush"])
    assert not hmac_sha256_base64_matches(body, "D0UMXmhjwBRi4y66TmhJrDlhQABD7zI2fm3p6/QLMo8=", ["wrong"])


def test_a_shopify_order_webhook_becomes_an_allied_order_with_its_stock_reserved(shop, stocked) -> None:
    response = deliver(shop, "orders/create", shopify_order())

    assert response.status_code == 200
    message = InboxMessage.objects.get()
    assert message.status == InboxStatus.PENDING  # answered before any processing
    run_tasks()

    order = Order.objects.get(channel="shopify", external_id="820982911946154508")
    assert (order.status, order.recipient_phone, order.payment_method, str(order.cod_amount)) == (
        OrderStatus.ALLOCATED,
        "+923001112233",
        "cod",
        "4400.00",
    )
    assert order.address.coordinates_source == "given"
    assert sorted(Stock.objects.values_list("reserved", flat=True)) == [1, 2]
    message.refresh_from_db()
    assert (message.status, message.order) == (InboxStatus.PROCESSED, order)


def test_every_webhook_delivered_twice_and_shuffled_yields_the_same_orders(shop, stocked) -> None:
    deliveries = []
    for number in range(5):
        order_id = 5000 + number
        deliveries.append(("orders/create", shopify_order(order_id), f"create-{number}"))
        deliveries.append(("orders/updated", shopify_order(order_id, note="changed"), f"update-{number}"))
    deliveries.append(("orders/cancelled", shopify_order(5003, cancelled_at="2026-12-05T11:00:00Z"), "cancel-3"))
    twice = deliveries * 2
    random.Random(7).shuffle(twice)

    for topic, payload, event_id in twice:
        assert deliver(shop, topic, payload, event_id=event_id).status_code == 200
    run_tasks()

    assert InboxMessage.objects.count() == len(deliveries)
    orders = {order.external_id: order.status for order in Order.objects.all()}
    assert {key for key, status in orders.items() if status != OrderStatus.CANCELLED} == {
        "5000",
        "5001",
        "5002",
        "5004",
    }
    assert orders.get("5003", OrderStatus.CANCELLED) == OrderStatus.CANCELLED
    assert sum(Stock.objects.values_list("reserved", flat=True)) == 4 * 3


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"secret": "not-the-secret"}, 401, "bad_signature"),
        ({"topic": "carts/update"}, 400, "unknown_topic"),
        ({"payload": b'{"id": 1, "line_items": ['}, 400, "malformed"),
    ],
)
def test_refused_deliveries_store_nothing_that_could_half_apply(shop, stocked, change, status, code) -> None:
    response = deliver(
        shop,
        change.get("topic", "orders/create"),
        change.get("payload", shopify_order()),
        secret=change.get("secret", CLIENT_SECRET),
    )
    run_tasks()

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not Order.objects.exists()
    kept = list(InboxMessage.objects.values_list("status", flat=True))
    assert kept == ([InboxStatus.REJECTED] if code == "malformed" else [])  # the reason stays visible


def test_unknown_paused_and_oversized_are_refused(shop, owner, settings) -> None:
    unknown = Client().post(f"/integrations/shopify/{uuid.uuid4()}/webhooks", b"{}", content_type="application/json")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    huge = deliver(shop, "orders/create", shopify_order(note="x" * 5000))
    connection_pause(connection=shop, actor=owner)
    paused = deliver(shop, "orders/create", shopify_order())

    assert (unknown.status_code, huge.status_code, paused.status_code) == (404, 413, 409)
    assert not InboxMessage.objects.exists()


def test_an_unknown_sku_puts_the_order_on_hold_with_the_reason(shop, stocked) -> None:
    payload = shopify_order(line_items=[{"id": 1, "title": "Mug", "sku": "MUG-NEW", "quantity": 1, "price": "900.00"}])

    deliver(shop, "orders/create", payload)
    run_tasks()

    message = InboxMessage.objects.get()
    assert message.status == InboxStatus.REJECTED
    assert message.reason.startswith("On hold")
    assert "MUG-NEW" in message.reason
    assert not Order.objects.exists()


def test_during_a_secret_rotation_both_secrets_are_accepted(shop, owner, stocked) -> None:
    connection_rotate_webhook_secret(connection=shop, secret="shpss_the_new_secret_9999", actor=owner)

    old = deliver(shop, "orders/create", shopify_order(1), secret=CLIENT_SECRET)
    new = deliver(shop, "orders/create", shopify_order(2), secret="shpss_the_new_secret_9999")

    assert (old.status_code, new.status_code) == (200, 200)


def test_the_mandatory_privacy_topics_are_verified_and_kept(shop) -> None:
    redact = {"shop_id": 1, "customer": {"id": 2, "email": "jon@example.com"}, "orders_to_redact": []}
    forged = deliver(shop, "customers/redact", redact, secret="forged")
    genuine = deliver(shop, "customers/redact", redact)
    run_tasks()

    assert (forged.status_code, genuine.status_code) == (401, 200)
    assert InboxMessage.objects.get().status == InboxStatus.PROCESSED  # answered: see test_privacy_webhooks.py


def test_app_uninstalled_disconnects_the_shop_and_forgets_its_tokens(shop) -> None:
    shop_body = {
        "id": 548380009,
        "name": "Kohsar",
        "domain": "kohsar.myshopify.com",
        "myshopify_domain": "kohsar.myshopify.com",
    }

    removed = deliver(shop, "app/uninstalled", shop_body)
    run_tasks()
    after = deliver(shop, "orders/create", shopify_order())

    assert removed.status_code == 200
    shop.refresh_from_db()
    assert shop.status == "disconnected"
    assert shop.credentials == {}
    assert InboxMessage.objects.get(topic="app/uninstalled").reason.startswith("Allied was removed from the store")
    assert after.status_code == 404  # a disconnected connection takes nothing more


def woo_deliver(connection: Connection, topic: str, payload: Any, delivery_id: str) -> Any:
    body = json.dumps(payload).encode()
    headers = {
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Signature": sign(body, WOO_SECRET),
        "X-WC-Webhook-Delivery-ID": delivery_id,
        "X-WC-Webhook-Source": "https://shop.kohsar.example/",
    }
    return Client().post(
        f"/integrations/woocommerce/{connection.public_id}/webhooks",
        body,
        content_type="application/json",
        headers=headers,
    )


def test_a_woocommerce_order_is_taken_in_and_its_ping_answered(woo, stocked) -> None:
    ping = Client().post(
        f"/integrations/woocommerce/{woo.public_id}/webhooks",
        b"webhook_id=17",
        content_type="application/x-www-form-urlencoded",
    )
    payload = {
        "id": 727,
        "status": "processing",
        "currency": "PKR",
        "payment_method": "cod",
        "total": "3200.00",
        "shipping_total": "200.00",
        "billing": {"email": "hina@example.com", "phone": "03001112233"},
        "shipping": {
            "first_name": "Hina",
            "last_name": "Baig",
            "address_1": "House 12",
            "city": "Karachi",
            "country": "PK",
        },
        "line_items": [{"id": 1, "name": "Tee", "sku": "TEE-BLK-M", "quantity": 2, "price": 1500}],
    }

    first = woo_deliver(woo, "order.created", payload, "d-1")
    again = woo_deliver(woo, "order.created", payload, "d-1")
    run_tasks()

    assert (ping.status_code, first.status_code, again.status_code) == (200, 200, 200)
    order = Order.objects.get(channel="woocommerce", external_id="727")
    assert (order.status, order.recipient_email, str(order.cod_amount)) == (
        OrderStatus.ALLOCATED,
        "hina@example.com",
        "3200.00",
    )
    assert InboxMessage.objects.count() == 1


def test_credentials_are_sealed_and_shown_only_by_their_last_four(shop) -> None:
    stored = Connection.objects.filter(pk=shop.pk).values_list("credentials", "credential_hints").get()

    assert CLIENT_SECRET not in json.dumps(stored[0])
    assert stored[1] == {"access_token": "…abcd", "client_secret": "…1234"}


def test_a_partner_cannot_connect_a_store_for_another_partner(partner_b, owner) -> None:
    from allied.core.errors import NotFound

    with pytest.raises(NotFound):
        connection_create(
            organization=partner_b,
            kind=ConnectionKind.SHOPIFY,
            name="Not mine",
            store_url="other.myshopify.com",
            credentials={"access_token": "shpat_x_abcd", "client_secret": "shpss_y_1234"},
            actor=owner,
        )


def test_a_delivery_signed_with_another_partners_secret_is_refused(shop, partner_b, member) -> None:
    membership = member(partner_b)
    other = connection_create(
        organization=partner_b,
        kind=ConnectionKind.SHOPIFY,
        name="B's store",
        store_url="partner-b.myshopify.com",
        credentials={"access_token": "shpat_b_token_cccc", "client_secret": "shpss_b_secret_dddd"},
        actor=Actor(user=membership.user, organization=partner_b, role=membership.role),
    )

    response = deliver(other, "orders/create", shopify_order(), secret=CLIENT_SECRET)  # A's secret

    assert response.status_code == 401
    assert not InboxMessage.objects.exists()
