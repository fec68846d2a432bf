"""The WooCommerce REST v3 client against a local fake WooCommerce over real HTTP."""

from collections.abc import Iterator
from datetime import timedelta

import pytest

from allied.core.models import PersonalDataShared
from allied.core.outbound import OutboundError
from allied.integrations.connectors import Shipment, connector_for
from allied.integrations.models import Connection, ConnectionKind, InboxMessage
from allied.integrations.services.connections import connection_create
from allied.integrations.woocommerce import WooCommerceClient, order_input, tracking_note
from tests.fakes.woocommerce import START, FakeWooCommerce, django_target
from tests.fakes.woocommerce import fake_woocommerce as fake_woocommerce  # the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def woo(partner_a, owner, fake_woocommerce) -> Connection:
    return connection_create(
        organization=partner_a,
        kind=ConnectionKind.WOOCOMMERCE,
        name="Kohsar Woo",
        store_url=fake_woocommerce.store_url,
        credentials=fake_woocommerce.credentials,
        actor=owner,
    )


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(woo, sleeps) -> Iterator[WooCommerceClient]:
    store = WooCommerceClient(woo, sleep=sleeps.append)
    yield store
    store.close()


def webhook_address(connection: Connection) -> str:
    return f"http://testserver/integrations/woocommerce/{connection.public_id}/webhooks"


def requests(fake: FakeWooCommerce, method: str, path: str) -> list:
    return [r for r in fake.received if r.method == method and r.path == f"/wp-json/wc/v3{path}"]


def shipment(order_id: int, url: str = "https://trax.example/track/TRX123456") -> Shipment:
    return Shipment(
        store_order_id=str(order_id),
        order_number="AL-000123",
        tracking_number="TRX123456",
        company="Trax",
        url=url,
    )


def test_check_proves_the_keys_and_names_the_store(client, fake_woocommerce) -> None:
    assert client.check() == "Kohsar Crafts"


def test_keys_the_store_does_not_know_are_a_401_store_error_not_retried(client, fake_woocommerce, sleeps) -> None:
    fake_woocommerce.credentials["consumer_secret"] = "cs_rotated_in_the_shop"

    with pytest.raises(OutboundError) as refused:
        client.check()

    assert refused.value.status == 401
    assert "Consumer secret is invalid" in str(refused.value)
    assert (len(fake_woocommerce.received), sleeps) == (1, [])


def test_a_store_without_https_is_refused_before_the_keys_are_sent(woo) -> None:
    woo.store_url = "http://shop.kohsar.example"

    with pytest.raises(OutboundError, match="not an https address"):
        WooCommerceClient(woo)


def test_a_429_is_waited_out_for_its_retry_after_then_the_call_succeeds(client, fake_woocommerce, sleeps) -> None:
    fake_woocommerce.throttle(1)

    assert client.check() == "Kohsar Crafts"

    assert sleeps == [pytest.approx(1.0)]
    assert [r.status for r in fake_woocommerce.received] == [429, 200]


def test_setup_subscribes_each_order_topic_once_signed_with_the_webhook_secret(client, woo, fake_woocommerce) -> None:
    address = webhook_address(woo)

    first = client.setup(webhook_address=address)
    again = client.setup(webhook_address=address)

    assert first == again
    assert set(first["webhook_ids"]) == {"order.created", "order.updated", "order.deleted"}
    hooks = fake_woocommerce.webhooks.values()
    assert sorted(h["topic"] for h in hooks) == ["order.created", "order.deleted", "order.updated"]
    assert {(h["delivery_url"], h["secret"], h["status"]) for h in hooks} == {
        (address, fake_woocommerce.credentials["webhook_secret"], "active")
    }
    assert len(requests(fake_woocommerce, "POST", "/webhooks")) == 3


def test_setup_reactivates_a_webhook_woocommerce_disabled_after_failed_deliveries(
    client, woo, fake_woocommerce
) -> None:
    fake_woocommerce.target = lambda url, headers, body: 500
    ids = client.setup(webhook_address=webhook_address(woo))["webhook_ids"]
    for _ in range(6):
        fake_woocommerce.create_order()
    assert fake_woocommerce.webhooks[ids["order.created"]]["status"] == "disabled"

    assert client.setup(webhook_address=webhook_address(woo)) == {"webhook_ids": ids}

    assert fake_woocommerce.webhooks[ids["order.created"]]["status"] == "active"
    assert len(fake_woocommerce.webhooks) == 3


@pytest.mark.django_db(transaction=True)
def test_the_fakes_ping_and_signed_deliveries_are_accepted_by_the_webhook_door(client, woo, fake_woocommerce) -> None:
    fake_woocommerce.target = django_target()
    client.setup(webhook_address=webhook_address(woo))

    pings = fake_woocommerce.run_scheduled()
    order = fake_woocommerce.create_order()
    fake_woocommerce.create_order(deliver=False)  # dropped: WooCommerce never retries

    assert [(d.body.decode().split("=")[0], d.status) for d in pings] == [("webhook_id", 200)] * 3
    assert [(d.topic, d.status) for d in fake_woocommerce.deliveries[3:]] == [("order.created", 200)]
    assert list(InboxMessage.objects.values_list("topic", "store_order_id")) == [("order.created", str(order["id"]))]


def test_orders_changed_since_come_oldest_first_in_pages_and_map_to_allied_orders(client, fake_woocommerce) -> None:
    since = START + timedelta(hours=1)
    for offset in [-10, -1, *range(250)]:  # two changed before `since`, one exactly at it
        fake_woocommerce.create_order(modified=since + timedelta(seconds=offset), deliver=False)
    expected = [o["id"] for o in sorted(fake_woocommerce.orders.values(), key=lambda o: o["date_modified_gmt"])[2:]]

    pages, cursor = [], None
    while True:
        page = client.orders_updated_since(since, cursor)
        pages.append(page)
        if (cursor := page.cursor) is None:
            break

    assert [len(p.orders) for p in pages] == [100, 100, 50]
    assert [p.cursor for p in pages] == ["2", "3", None]
    polled = [o for p in pages for o in p.orders]
    assert [int(o.store_order_id) for o in polled] == expected
    assert polled[0].updated_at == since
    connector = connector_for("woocommerce")
    for store_order in polled:
        assert store_order.topic == "order.updated"
        assert connector.updated_at(store_order.payload) == store_order.updated_at
        mapped = order_input(store_order.payload)
        assert (mapped.external_id, mapped.recipient_name, len(mapped.lines)) == (
            store_order.store_order_id,
            "Hina Baig",
            1,
        )
    query = requests(fake_woocommerce, "GET", "/orders")[0].params
    assert (query["dates_are_gmt"], query["orderby"], query["order"], query["per_page"]) == (
        "true",
        "modified",
        "asc",
        "100",
    )


def test_an_order_whose_webhook_was_dropped_is_found_by_polling(client, fake_woocommerce) -> None:
    kept = fake_woocommerce.create_order(deliver=False)
    fake_woocommerce.update_order(kept["id"], customer_note="Leave at the gate", deliver=False)

    page = client.orders_updated_since(START, None)

    assert [(o.store_order_id, o.payload["customer_note"]) for o in page.orders] == [
        (str(kept["id"]), "Leave at the gate")
    ]


def test_shipment_confirm_completes_the_order_with_one_tracking_note_when_called_twice(
    client, fake_woocommerce
) -> None:
    order = fake_woocommerce.create_order(deliver=False)

    client.shipment_confirm(shipment(order["id"]))
    client.shipment_confirm(shipment(order["id"]))

    assert fake_woocommerce.orders[order["id"]]["status"] == "completed"
    notes = fake_woocommerce.notes[order["id"]]
    assert [(n["note"], n["customer_note"]) for n in notes] == [
        ("Shipped with Trax, tracking TRX123456: https://trax.example/track/TRX123456", True)
    ]
    assert len(requests(fake_woocommerce, "PUT", f"/orders/{order['id']}")) == 1
    assert not PersonalDataShared.objects.exists()  # a tracking number and a plain link: nobody's data


def test_a_tracking_link_carrying_the_recipients_phone_is_written_to_the_sharing_register(
    client, partner_a, fake_woocommerce
) -> None:
    order = fake_woocommerce.create_order(deliver=False)
    link = "https://courier.example/track?cn=TRX123456&phone=03001112233"

    client.shipment_confirm(shipment(order["id"], url=link))

    shared = PersonalDataShared.objects.get()
    assert (shared.organization_id, shared.recipient, shared.recipient_category) == (
        partner_a.pk,
        "shop.kohsar.example",
        "store_platforms",
    )
    assert (shared.data_categories, shared.purpose, shared.reference) == (
        ["user.contact.phone_number"],
        "order_fulfillment",
        "AL-000123",
    )
    assert fake_woocommerce.notes[order["id"]][0]["note"] == tracking_note(shipment(order["id"], url=link))


def test_stock_set_updates_products_and_variations_by_sku_and_reports_unknown_skus(client, fake_woocommerce) -> None:
    fake_woocommerce.add_product("CAP-RED", stock=2)
    fake_woocommerce.add_product("MUG-WHT")  # stock not managed yet
    fake_woocommerce.add_variable_product("Tee", ["TEE-BLK-S", "TEE-BLK-M"], sku="TEE-BLK")

    unknown = client.stock_set({"CAP-RED": 9, "MUG-WHT": 0, "TEE-BLK-M": 7, "NOT-IN-SHOP": 3})

    assert unknown == ["NOT-IN-SHOP"]
    stock = {
        sku: (item["manage_stock"], item["stock_quantity"], item["stock_status"])
        for sku in ("CAP-RED", "MUG-WHT", "TEE-BLK-M", "TEE-BLK-S")
        for item in [fake_woocommerce.find_sku(sku)]
    }
    assert stock == {
        "CAP-RED": (True, 9, "instock"),
        "MUG-WHT": (True, 0, "outofstock"),
        "TEE-BLK-M": (True, 7, "instock"),
        "TEE-BLK-S": ("parent", None, "instock"),
    }
    assert not PersonalDataShared.objects.exists()


def test_stock_set_sends_at_most_a_hundred_items_a_batch(client, fake_woocommerce) -> None:
    skus = [f"SKU-{number:03d}" for number in range(150)]
    for sku in skus:
        fake_woocommerce.add_product(sku)

    assert client.stock_set(dict.fromkeys(skus, 4)) == []

    batches = requests(fake_woocommerce, "POST", "/products/batch")
    assert [len(b.body["update"]) for b in batches] == [100, 50]
    assert all(b.status == 200 for b in batches)
    assert {fake_woocommerce.find_sku(sku)["stock_quantity"] for sku in skus} == {4}
