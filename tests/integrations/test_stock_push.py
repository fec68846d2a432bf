"""Stock pushed to stores: every change reaches the store, in one push per burst, spaced out per
store, summed over warehouses, and nothing is forgotten when the store refuses."""

from datetime import timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from allied.core.outbound import OutboundError
from allied.core.outbox import outbox_relay
from allied.integrations.models import Connection, ConnectionKind, StockPushItem
from allied.integrations.services.connections import connection_create, connection_disconnect, connection_pause
from allied.integrations.services.stock import connection_stock_push, connection_stock_push_all, stock_changed
from allied.inventory.models import BinKind
from tests.catalog.factories import ProductFactory
from tests.fakes.woocommerce import fake_woocommerce as fake_woocommerce  # the fixture
from tests.inventory.factories import BinFactory, WarehouseFactory
from tests.worker import run_until_quiet

pytestmark = pytest.mark.django_db(transaction=True)
PUSH_TASK = "allied.integrations.tasks.push_stock"


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


def batch_requests(fake) -> list:
    return [r for r in fake.received if r.method == "POST" and r.path.endswith("/batch")]


def test_a_burst_of_changes_is_one_push_with_the_quantities_summed_over_warehouses(
    partner_a, woo, fake_woocommerce, floor, stock_in, settings
) -> None:
    settings.ALLIED_STOCK_PUSH_SECONDS = 0
    tee, cap = ProductFactory(organization=partner_a, sku="TEE"), ProductFactory(organization=partner_a, sku="CAP")
    fake_woocommerce.add_product("TEE", stock=0)
    fake_woocommerce.add_product("CAP", stock=0)
    stock_in(tee, 5)
    stock_in(tee, 2)
    stock_in(cap, 1)
    second = WarehouseFactory(code="WH-2")
    floor.warehouse = second  # the next receipt goes to the second warehouse
    floor.dock = BinFactory(warehouse=second, code="DOCK-2", kind=BinKind.RECEIVING)
    stock_in(tee, 4, bin=BinFactory(warehouse=second, code="C-01-01"))

    while outbox_relay():  # every change reaches the consumer before any push runs
        pass
    run_until_quiet()

    assert DBTaskResult.objects.filter(task_path=PUSH_TASK).count() == 1
    assert len(batch_requests(fake_woocommerce)) == 1
    assert fake_woocommerce.find_sku("TEE")["stock_quantity"] == 11
    assert fake_woocommerce.find_sku("CAP")["stock_quantity"] == 1
    assert not StockPushItem.objects.exists()


def test_a_store_is_pushed_to_at_most_every_interval(partner_a, woo, fake_woocommerce, settings) -> None:
    settings.ALLIED_STOCK_PUSH_SECONDS = 30
    tee = ProductFactory(organization=partner_a, sku="TEE")
    fake_woocommerce.add_product("TEE", stock=3)
    stock_changed(organization_id=partner_a.pk, product_ids=[tee.pk])
    connection_stock_push(connection_id=woo.pk)
    woo.refresh_from_db()
    pushed_at = woo.last_stock_push_at

    stock_changed(organization_id=partner_a.pk, product_ids=[tee.pk])
    stock_changed(organization_id=partner_a.pk, product_ids=[tee.pk])

    woo.refresh_from_db()
    assert woo.stock_push_due_at == pushed_at + timedelta(seconds=30)
    queued = DBTaskResult.objects.filter(task_path=PUSH_TASK).order_by("enqueued_at")
    assert queued.count() == 2  # the first push, and one more for both later changes
    assert queued.last().run_after == pushed_at + timedelta(seconds=30)
    assert fake_woocommerce.find_sku("TEE")["stock_quantity"] == 0  # never stocked in Allied: none to sell


def test_a_refusal_keeps_every_change_and_says_why(partner_a, woo, fake_woocommerce) -> None:
    tee = ProductFactory(organization=partner_a, sku="TEE")
    fake_woocommerce.add_product("TEE", stock=3)
    stock_changed(organization_id=partner_a.pk, product_ids=[tee.pk])
    fake_woocommerce.credentials = {**fake_woocommerce.credentials, "consumer_secret": "cs_revoked"}

    with pytest.raises(OutboundError):
        connection_stock_push(connection_id=woo.pk)

    woo.refresh_from_db()
    assert "401" in woo.last_stock_push_error
    assert StockPushItem.objects.filter(connection=woo, product=tee).exists()
    assert fake_woocommerce.find_sku("TEE")["stock_quantity"] == 3


def test_skus_the_store_lacks_are_reported(partner_a, owner, woo, fake_woocommerce) -> None:
    ProductFactory(organization=partner_a, sku="ONLY-IN-ALLIED")
    connection_stock_push_all(connection=woo, actor=owner)

    result = connection_stock_push(connection_id=woo.pk)

    woo.refresh_from_db()
    assert result.unknown == ["ONLY-IN-ALLIED"]
    assert "ONLY-IN-ALLIED" in woo.last_stock_push_error


def test_a_paused_store_keeps_its_changes_for_the_resume_and_a_disconnected_one_drops_them(
    partner_a, owner, woo, fake_woocommerce
) -> None:
    tee = ProductFactory(organization=partner_a, sku="TEE")
    fake_woocommerce.add_product("TEE", stock=3)
    stock_changed(organization_id=partner_a.pk, product_ids=[tee.pk])
    connection_pause(connection=woo, actor=owner)

    assert stock_changed(organization_id=partner_a.pk, product_ids=[tee.pk]) == 0  # a paused store is not marked
    assert connection_stock_push(connection_id=woo.pk).pushed == {}
    assert StockPushItem.objects.filter(connection=woo, product=tee).exists()
    assert fake_woocommerce.find_sku("TEE")["stock_quantity"] == 3

    connection_disconnect(connection=woo, actor=owner)
    connection_stock_push(connection_id=woo.pk)
    assert not StockPushItem.objects.filter(connection=woo).exists()


def test_a_change_while_the_store_is_being_told_is_pushed_again(partner_a, woo, fake_woocommerce, monkeypatch) -> None:
    from allied.integrations.services import stock

    tee = ProductFactory(organization=partner_a, sku="TEE")
    fake_woocommerce.add_product("TEE", stock=9)
    stock_changed(organization_id=partner_a.pk, product_ids=[tee.pk])
    read = stock.available_by_sku

    def read_then_change_again(product_ids):
        quantities = read(product_ids)
        stock_changed(organization_id=partner_a.pk, product_ids=[tee.pk])  # another worker, meanwhile
        return quantities

    monkeypatch.setattr(stock, "available_by_sku", read_then_change_again)
    connection_stock_push(connection_id=woo.pk)

    woo.refresh_from_db()
    assert fake_woocommerce.find_sku("TEE")["stock_quantity"] == 0
    assert StockPushItem.objects.filter(connection=woo, product=tee).exists()  # outlived the push
    assert woo.stock_push_due_at is not None  # and another push is queued for it
