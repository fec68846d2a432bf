"""The Daraz marketplace connector against a fake Daraz that checks signatures and tokens."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from allied.accounts.policy import Actor
from allied.core.audit import AuditEntry
from allied.core.outbound import OutboundError
from allied.core.worker import HeartbeatWorker
from allied.integrations import marketplace
from allied.integrations.connectors import Shipment, connector_for
from allied.integrations.marketplace import MarketplaceClient, lazop_sign
from allied.integrations.models import Connection, ConnectionKind, InboxMessage, InboxStatus
from allied.integrations.services.connections import connection_create, connection_set_up
from allied.integrations.services.inbox import inbox_receive
from allied.orders.models import Order, OrderStatus
from tests.catalog.factories import ProductFactory
from tests.processes import run_allied

pytest_plugins = ["tests.fakes.marketplace"]  # the fake_marketplace fixture
pytestmark = pytest.mark.django_db(transaction=True)

SINCE = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def stocked(partner_a, floor, stock_in) -> None:
    for sku in ("TEE-BLK-M", "CAP-RED"):
        stock_in(ProductFactory(organization=partner_a, sku=sku), 10)


@pytest.fixture
def daraz(partner_a, owner, fake_marketplace) -> Connection:
    return connection_create(
        organization=partner_a,
        kind=ConnectionKind.MARKETPLACE,
        name="Kohsar on Daraz",
        store_url=fake_marketplace.store_url,
        credentials=fake_marketplace.credentials,
        actor=owner,
    )


def client_of(connection: Connection, sleeps: list[float] | None = None) -> MarketplaceClient:
    connection = Connection.objects.get(pk=connection.pk)
    return connector_for("marketplace").client(connection, sleep=(sleeps if sleeps is not None else []).append)


def test_requests_are_signed_as_lazop_publishes_it() -> None:
    token = "50000601c30atpedfgu3LVvik87Ixlsvle3mSoB7701ceb156fPunYZ43GBg-aaaa"
    params = {
        "app_key": "501234",
        "timestamp": "1765000000000",
        "sign_method": "sha256",
        "access_token": token,
        "update_after": "2026-12-05T00:00:00+05:00",
        "sort_by": "updated_at",
        "sort_direction": "ASC",
        "offset": "0",
        "limit": "100",
    }
    # printf '/orders/get' + each name and value sorted by name | openssl dgst -sha256 -hmac <secret>, upper-cased
    expected = "B55C8EAB620A2B03E94492617F4D299092AD9DB9324B4AC5E61A8467CE3F77C0"

    assert lazop_sign("daraz-app-secret-7f3a", "/orders/get", params) == expected
    assert lazop_sign("daraz-app-secret-7f3a", "/orders/get", {**params, "sign": expected}) == expected
    assert lazop_sign("another-secret", "/orders/get", params) != expected


def test_a_request_signed_with_the_wrong_secret_is_refused(fake_marketplace, daraz) -> None:
    client = client_of(daraz)
    client.app_secret = "not-the-app-secret"

    with pytest.raises(OutboundError, match="signature"):
        client.check()
    assert [call.code for call in fake_marketplace.received] == ["IncompleteSignature"]


def test_check_names_the_seller_and_setup_subscribes_nothing(fake_marketplace, daraz) -> None:
    client = client_of(daraz)

    assert client.check() == "Kohsar Traders"
    assert client.setup(webhook_address="https://allied.example/ignored") == {
        "seller": "PK1A2B3",
        "seller_name": "Kohsar Traders",
    }


def test_two_sellers_share_the_marketplace_address_but_one_seller_connects_once(
    partner_a, partner_b, member, owner, fake_marketplace, daraz
) -> None:
    other = member(partner_b)
    other_owner = Actor(user=other.user, organization=partner_b, role=other.role)
    second = connection_create(
        organization=partner_b,
        kind=ConnectionKind.MARKETPLACE,
        name="Another seller",
        store_url=fake_marketplace.store_url,
        credentials=fake_marketplace.credentials,
        actor=other_owner,
    )

    first = connection_set_up(connection=daraz, actor=owner)
    twin = connection_set_up(connection=second, actor=other_owner)

    assert first.ok
    assert not twin.ok
    assert twin.message == "This seller (PK1A2B3) is already connected: Kohsar on Daraz."
    second.refresh_from_db()
    assert second.set_up_at is None
    assert second.last_check_error == twin.message


def pull_into_inbox(connection: Connection) -> list[str]:
    client, cursor, seen = client_of(connection), None, []
    while True:
        page = client.orders_updated_since(SINCE, cursor)
        for order in page.orders:
            seen.append(order.store_order_id)
            inbox_receive(
                connection=connection,
                topic=order.topic,
                delivery_key=f"poll:{order.store_order_id}:{order.updated_at.isoformat()}",
                body=json.dumps(order.payload).encode(),
            )
        if page.cursor is None:
            return seen
        cursor = page.cursor


def test_pulled_orders_are_paged_and_taken_in_as_allied_orders(fake_marketplace, daraz, stocked, monkeypatch) -> None:
    monkeypatch.setattr(marketplace, "PAGE_SIZE", 2)
    fake_marketplace.add_order(
        301,
        updated_at="2026-12-05 10:00:00 +0500",
        units=[
            ("TEE-BLK-M", "1500.00", "1400.00"),
            ("TEE-BLK-M", "1500.00", "1400.00"),
            ("CAP-RED", "1200.00", "1200.00"),
        ],
    )
    fake_marketplace.add_order(302, updated_at="2026-12-05 11:00:00 +0500", units=[("CAP-RED", "1200.00", "1200.00")])
    fake_marketplace.add_order(
        303, updated_at="2026-12-05 12:00:00 +0500", units=[("CAP-RED", "1200.00", "1200.00")], status="canceled"
    )
    fake_marketplace.add_order(
        304, updated_at="2026-12-05 13:00:00 +0500", units=[("TEE-BLK-M", "1500.00", "1500.00")], status="delivered"
    )
    fake_marketplace.add_order(305, updated_at="2026-11-20 09:00:00 +0500", units=[("CAP-RED", "1.00", "1.00")])

    seen = pull_into_inbox(daraz)
    HeartbeatWorker(batch=True, interval=0).run()

    assert seen == ["301", "302", "303", "304"]  # oldest change first; 305 changed before `since`
    assert len(fake_marketplace.calls("/orders/get")) == 3  # 2 + 2 + an empty last page
    order = Order.objects.get(channel="marketplace", external_id="301")
    lines = {line.product.sku: line.quantity for line in order.lines.select_related("product")}
    assert lines == {"TEE-BLK-M": 2, "CAP-RED": 1}
    assert (order.status, order.payment_method, str(order.cod_amount), str(order.shipping_fee)) == (
        OrderStatus.ALLOCATED,
        "cod",
        "4150.00",  # what the buyer pays: 1400 + 1400 + 1200 after vouchers, and 150 shipping
        "150.00",
    )
    assert (order.recipient_name, order.recipient_phone) == ("Hina Baig", "+923001112233")
    assert (order.address.line1, order.address.city, order.address.region, order.address.country) == (
        "House 12, Street 4",
        "Karachi",
        "Sindh",
        "PK",
    )
    statuses = dict(InboxMessage.objects.values_list("store_order_id", "status"))
    assert statuses == {
        "301": InboxStatus.PROCESSED,
        "302": InboxStatus.PROCESSED,
        "303": InboxStatus.PROCESSED,  # cancelled before Allied took it in
        "304": InboxStatus.IGNORED,  # delivered before the connection
    }
    assert set(Order.objects.values_list("external_id", flat=True)) == {"301", "302"}


def test_an_order_cancelled_at_daraz_after_intake_is_cancelled_in_allied(fake_marketplace, daraz, stocked) -> None:
    fake_marketplace.add_order(401, updated_at="2026-12-05 10:00:00 +0500", units=[("CAP-RED", "1200.00", "1200.00")])
    pull_into_inbox(daraz)
    HeartbeatWorker(batch=True, interval=0).run()
    fake_marketplace.orders[401]["updated_at"] = "2026-12-05 12:00:00 +0500"
    for item in fake_marketplace.items[401]:
        item.status = "canceled"

    pull_into_inbox(daraz)
    HeartbeatWorker(batch=True, interval=0).run()

    assert Order.objects.get(external_id="401").status == OrderStatus.CANCELLED


def test_an_expired_token_is_exchanged_sealed_and_the_call_retried_once(fake_marketplace, daraz) -> None:
    fake_marketplace.expire_token()

    assert client_of(daraz).check() == "Kohsar Traders"

    assert [call.code for call in fake_marketplace.received if call.path == "/seller/get"] == [
        "IllegalAccessToken",
        "0",
    ]
    assert fake_marketplace.refreshed == 1
    stored = Connection.objects.get(pk=daraz.pk)
    new_token = fake_marketplace.access_token
    assert new_token not in json.dumps(stored.credentials)
    assert fake_marketplace.refresh_token not in json.dumps(stored.credentials)
    assert stored.credential("access_token") == new_token
    assert stored.credential_hints["access_token"] == "…" + new_token[-4:]
    assert stored.credential_hints["refresh_token"] == "…" + fake_marketplace.refresh_token[-4:]
    expires = datetime.fromisoformat(stored.remote["access_token_expires_at"])
    assert timedelta(days=6) < expires - timezone.now() <= timedelta(days=7)
    assert AuditEntry.objects.filter(action="integration.credentials_refreshed").count() == 1
    client_of(daraz).check()  # the sealed token is the one used next
    assert fake_marketplace.refreshed == 1


def test_a_token_about_to_lapse_is_exchanged_before_the_call(fake_marketplace, daraz) -> None:
    Connection.objects.filter(pk=daraz.pk).update(
        remote={"access_token_expires_at": (timezone.now() + timedelta(minutes=30)).isoformat()}
    )

    client_of(daraz).check()

    assert [call.path for call in fake_marketplace.received] == ["/auth/token/refresh", "/seller/get"]
    assert Connection.objects.get(pk=daraz.pk).credential("access_token") == fake_marketplace.access_token


def test_an_expired_refresh_token_is_a_store_error(fake_marketplace, daraz) -> None:
    fake_marketplace.expire_token()
    fake_marketplace.refresh_token = "something-else"

    with pytest.raises(OutboundError, match="refresh token is invalid"):
        client_of(daraz).check()


def test_a_shipment_is_packed_and_marked_ready_to_ship_once(fake_marketplace, daraz) -> None:
    fake_marketplace.add_order(
        501,
        updated_at="2026-12-05 10:00:00 +0500",
        units=[("TEE-BLK-M", "1500.00", "1500.00"), ("CAP-RED", "1200.00", "1200.00"), ("CAP-RED", "1200.00", "0")],
    )
    fake_marketplace.items[501][2].status = "canceled"
    shipment = Shipment(
        store_order_id="501", order_number="AES-1001", tracking_number="TCS-7788990011", company="TCS", url=""
    )

    client = client_of(daraz)
    client.shipment_confirm(shipment)
    client.shipment_confirm(shipment)

    pack, rts = fake_marketplace.calls("/order/pack"), fake_marketplace.calls("/order/rts")
    assert (len(pack), len(rts)) == (1, 1)
    live = [str(item.order_item_id) for item in fake_marketplace.items[501][:2]]
    assert (pack[0].params["delivery_type"], pack[0].params["shipping_provider"]) == ("dropship", "TCS")
    assert re.findall(r"\d+", pack[0].params["order_item_ids"]) == live
    assert (rts[0].params["tracking_number"], rts[0].params["shipment_provider"]) == ("TCS-7788990011", "TCS")
    assert re.findall(r"\d+", rts[0].params["order_item_ids"]) == live
    assert [item.status for item in fake_marketplace.items[501]] == ["ready_to_ship", "ready_to_ship", "canceled"]


def test_stock_is_sent_as_daraz_xml_in_batches_and_unknown_skus_reported(fake_marketplace, daraz) -> None:
    fake_marketplace.products.update({"TEE-BLK-M": 0, "CAP-RED": 0} | {f"BULK-{n:03d}": 0 for n in range(60)})
    available = {"TEE-BLK-M": 7, "CAP-RED": 3, "MUG-NEW": 1} | {f"BULK-{n:03d}": n for n in range(60)}

    unknown = client_of(daraz).stock_set(available)

    assert unknown == ["MUG-NEW"]
    assert (fake_marketplace.products["TEE-BLK-M"], fake_marketplace.products["CAP-RED"]) == (7, 3)
    assert fake_marketplace.products["BULK-059"] == 59
    sent = [call for call in fake_marketplace.received if call.path == "/product/price_quantity/update"]
    assert [call.method for call in sent] == ["POST", "POST"]  # 63 SKUs: 50 and 13
    assert "<Sku><SellerSku>TEE-BLK-M</SellerSku><Quantity>7</Quantity></Sku>" in "".join(
        call.params["payload"] for call in sent
    )
    assert all(call.params["payload"].count("<Sku>") <= 50 for call in sent)


def test_a_429_is_waited_out_as_retry_after_says(fake_marketplace, daraz) -> None:
    fake_marketplace.throttle(1)
    sleeps: list[float] = []

    assert client_of(daraz, sleeps).check() == "Kohsar Traders"

    assert sleeps == [1.0]
    assert [call.answered for call in fake_marketplace.received] == [429, 200]


def test_a_refusal_answered_with_http_200_is_a_store_error(fake_marketplace, daraz) -> None:
    with pytest.raises(OutboundError, match="Order not found"):
        client_of(daraz).shipment_confirm(
            Shipment(store_order_id="999", order_number="AES-1", tracking_number="T", company="TCS", url="")
        )


def test_a_marketplace_is_connected_with_the_command(partner_a, fake_marketplace) -> None:
    given = fake_marketplace.credentials
    result = run_allied(
        "integrations", "connect", "marketplace", "--org", "partner-a", "--store", fake_marketplace.store_url,
        "--app-key", given["app_key"], "--app-secret", given["app_secret"],
        "--access-token", given["access_token"], "--refresh-token", given["refresh_token"],
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    connection = Connection.objects.get()
    assert (connection.kind, connection.store_url) == ("marketplace", fake_marketplace.store_url)
    assert connection.credential("refresh_token") == given["refresh_token"]
    assert given["app_secret"] not in json.dumps(connection.credentials)
