"""The whole loop against the fakes, through real HTTP and the real worker: a store's order arrives
by webhook, becomes an Allied order, is picked, packed and handed over; the store then shows the
fulfillment with its tracking and Allied's available stock."""

import pytest
from django.test import Client

from allied.accounts.policy import Actor
from allied.core.models import PersonalDataShared
from allied.fulfillment.selectors import pick_tasks
from allied.fulfillment.services import manifest_close, manifest_open, manifest_scan, pick_list_create, pick_list_scan
from allied.integrations.models import Connection, ConnectionKind, StockPushItem
from allied.integrations.services.connections import connection_create, connection_set_up
from allied.integrations.services.stock import connection_stock_push_all
from allied.inventory.selectors import available_by_sku
from allied.orders.models import Order, OrderStatus
from allied.orders.services.lifecycle import order_pack
from tests.catalog.factories import ProductFactory
from tests.fakes.shopify import FakeShopify, django_client_delivery, served_fake_shopify
from tests.fakes.woocommerce import django_target
from tests.fakes.woocommerce import fake_woocommerce as fake_woocommerce  # the fixture
from tests.worker import run_until_quiet

pytestmark = pytest.mark.django_db(transaction=True)
SYSTEM = Actor.system("tests")


@pytest.fixture
def fake_shopify(settings):
    yield from served_fake_shopify(settings)


@pytest.fixture
def stocked(partner_a, floor, stock_in, settings) -> dict[str, int]:
    settings.ALLIED_STOCK_PUSH_SECONDS = 0  # the worker below runs what is due now
    stock_in(ProductFactory(organization=partner_a, sku="TEE-BLK-M", barcodes=["8964000000017"]), 10, bin=floor.shelf_a)
    stock_in(ProductFactory(organization=partner_a, sku="CAP-RED"), 4, bin=floor.shelf_b)
    return {"TEE-BLK-M": 10, "CAP-RED": 4}


def pick_pack_hand_over(floor, order: Order) -> Order:
    pick_list = pick_list_create(warehouse=floor.warehouse, orders=[order], actor=SYSTEM)
    while tasks := pick_tasks(pick_list):
        task = tasks[0]
        pick_list_scan(pick_list=pick_list, code=task.sku, bin_code=task.bin_code, actor=SYSTEM)
    scans = [line.sku for line in order.lines.all() for _ in range(line.quantity)]
    order_pack(order=order, scanned_codes=scans, weight_grams=700, dimensions_mm="300x200x100", actor=SYSTEM)
    order.refresh_from_db()
    manifest = manifest_open(warehouse=floor.warehouse, carrier="tcs", actor=SYSTEM)
    manifest_scan(manifest=manifest, code=order.tracking_code, actor=SYSTEM)
    manifest_close(manifest=manifest, actor=SYSTEM)
    order.refresh_from_db()
    return order


def test_a_shopify_order_goes_round_the_whole_loop(
    partner_a, owner, floor, stocked, fake_shopify: FakeShopify, settings
) -> None:
    shop = connection_create(
        organization=partner_a,
        kind=ConnectionKind.SHOPIFY,
        name="Kohsar Shopify",
        store_url=fake_shopify.shop_domain,
        credentials={"access_token": fake_shopify.access_token, "client_secret": fake_shopify.client_secret},
        actor=owner,
    )
    for sku in stocked:
        fake_shopify.add_variant(sku)
    fake_shopify.deliver = django_client_delivery(Client())

    answer = connection_set_up(connection=shop, actor=owner)
    shop.refresh_from_db()
    assert answer.ok, answer.message
    location = fake_shopify.allied_location()
    assert shop.remote["location_id"] == location
    assert {s["topic"] for s in fake_shopify.subscriptions} >= {"ORDERS_CREATE", "ORDERS_UPDATED"}

    # Allied's stock is put in the store once, then kept there as it changes.
    with_stock = connection_stock_push_all(connection=shop, actor=owner)
    run_until_quiet()
    assert with_stock == 2
    assert {sku: fake_shopify.level(sku, location) for sku in stocked} == {"TEE-BLK-M": 10, "CAP-RED": 4}

    sold = fake_shopify.create_order()  # the shop sends orders/create to Allied
    fake_shopify.create_order(sold["id"], deliver=False)  # (the same order again changes nothing)
    fake_shopify.send("ORDERS_CREATE", sold)  # delivered twice, as Shopify may
    fake_shopify.submit_fulfillment_request(sold["id"])
    run_until_quiet()

    order = Order.objects.get(organization=partner_a, channel="shopify", external_id=str(sold["id"]))
    assert order.status == OrderStatus.ALLOCATED
    assert Order.objects.filter(channel="shopify").count() == 1
    fulfillment_order = fake_shopify.fulfillment_orders[fake_shopify.orders[sold["id"]].fulfillment_orders[0]]
    assert fulfillment_order.request_status == "ACCEPTED"
    assert {sku: fake_shopify.level(sku, location) for sku in stocked} == {"TEE-BLK-M": 8, "CAP-RED": 3}

    order = pick_pack_hand_over(floor, order)
    run_until_quiet()

    assert order.status == OrderStatus.HANDED_OVER
    [fulfillment] = fake_shopify.fulfillments
    assert fulfillment.tracking["number"] == order.tracking_code
    assert fulfillment.tracking["company"] == "tcs"
    assert fulfillment.tracking["url"].endswith(f"/track/{order.tracking_code}")
    assert fulfillment_order.status == "CLOSED"
    # Shipped stock leaves the shelf and its reservation together: what can be sold is unchanged.
    assert {sku: fake_shopify.level(sku, location) for sku in stocked} == available_by_sku(
        [line.product_id for line in order.lines.all()]
    )
    assert not StockPushItem.objects.filter(connection=shop).exists()
    # The fulfillment carried a tracking number and Allied's link, nothing about the recipient:
    # so nothing was added to the sharing register.
    assert not PersonalDataShared.objects.filter(organization=partner_a).exists()


def test_a_woocommerce_order_is_completed_with_its_tracking_note_and_stock_follows(
    partner_a, owner, floor, stocked, fake_woocommerce
) -> None:
    woo = connection_create(
        organization=partner_a,
        kind=ConnectionKind.WOOCOMMERCE,
        name="Kohsar Woo",
        store_url=fake_woocommerce.store_url,
        credentials=fake_woocommerce.credentials,
        actor=owner,
    )
    for sku in stocked:
        fake_woocommerce.add_product(sku, stock=0)
    fake_woocommerce.target = django_target(Client())

    assert connection_set_up(connection=woo, actor=owner).ok
    Connection.objects.filter(pk=woo.pk).update(poll_checkpoint=None)
    sold = fake_woocommerce.create_order()
    run_until_quiet()

    order = Order.objects.get(organization=partner_a, channel="woocommerce", external_id=str(sold["id"]))
    assert order.status == OrderStatus.ALLOCATED
    assert fake_woocommerce.find_sku("TEE-BLK-M")["stock_quantity"] == 8

    order = pick_pack_hand_over(floor, order)
    run_until_quiet()

    completed = fake_woocommerce.orders[sold["id"]]
    assert completed["status"] == "completed"
    assert any(order.tracking_code in note["note"] for note in fake_woocommerce.notes[sold["id"]])
