from decimal import Decimal

import pytest
from django.db import transaction

from allied.accounts.policy import Actor
from allied.core.errors import Conflict, IllegalTransition, ValidationFailed
from allied.core.models import DomainEvent
from allied.core.worker import HeartbeatWorker
from allied.inventory.models import Stock, StockMove
from allied.inventory.selectors import inventory_verify
from allied.orders.models import Order, OrderStatus, PaymentMethod
from allied.orders.services.intake import order_create
from allied.orders.services.lifecycle import (
    order_cancel,
    order_hand_over,
    order_pack,
    order_pick,
    order_record_delivery,
    order_split_backorder,
    order_start_picking,
)
from allied.orders.tracking import tracking_code_is_valid
from tests.catalog.factories import ProductFactory
from tests.orders.factories import order_input

SYSTEM = Actor.system("tests")


def stock_of(product: object) -> Stock:
    return Stock.objects.get(product=product)


@pytest.mark.django_db
def test_order_create_reserves_stock_and_writes_ledger_timeline_and_event(partner_a, floor, stock_in) -> None:
    tee = ProductFactory(organization=partner_a, sku="TEE")
    stock_in(tee, 5)

    intake = order_create(organization=partner_a, data=order_input(("TEE", 3)), actor=SYSTEM)

    order = intake.order
    assert intake.created
    assert order.status == OrderStatus.ALLOCATED
    assert (stock_of(tee).on_hand, stock_of(tee).reserved, stock_of(tee).available) == (5, 3, 2)
    reserve = StockMove.objects.get(reason="reserve")
    assert (reserve.reserved_delta, reserve.reserved_after, reserve.reference_id) == (3, 3, str(order.pk))
    assert [e.type for e in order.events.all()] == ["received", "allocated"]
    assert DomainEvent.objects.filter(type="order.created", aggregate_id=str(order.pk)).exists()
    level = DomainEvent.objects.get(type="inventory.level_changed", payload__cause="order.allocated")
    assert (level.payload["reserved"], level.payload["available"]) == (3, 2)
    assert inventory_verify() == []


@pytest.mark.django_db
def test_same_channel_and_external_id_returns_the_first_order(partner_a, floor, stock_in) -> None:
    ProductFactory(organization=partner_a, sku="TEE")
    data = order_input(("TEE", 1))

    first = order_create(organization=partner_a, data=data, actor=SYSTEM)
    second = order_create(organization=partner_a, data=data, actor=SYSTEM)

    assert (first.created, second.created) == (True, False)
    assert second.order.pk == first.order.pk
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_shortfall_backorders_with_partial_allocation(partner_a, floor, stock_in) -> None:
    tee = ProductFactory(organization=partner_a, sku="TEE")
    stock_in(tee, 2)

    order = order_create(organization=partner_a, data=order_input(("TEE", 5)), actor=SYSTEM).order

    assert order.status == OrderStatus.BACKORDERED
    assert order.lines.get().allocated_quantity == 2
    assert stock_of(tee).available == 0


@pytest.mark.django_db(transaction=True)
def test_backorders_allocate_oldest_first_when_stock_arrives(partner_a, floor, stock_in) -> None:
    tee = ProductFactory(organization=partner_a, sku="TEE")
    with transaction.atomic():
        older = order_create(organization=partner_a, data=order_input(("TEE", 2)), actor=SYSTEM).order
        newer = order_create(organization=partner_a, data=order_input(("TEE", 2)), actor=SYSTEM).order

    with transaction.atomic():
        stock_in(tee, 3)
    HeartbeatWorker(batch=True, interval=0).run()

    older.refresh_from_db()
    newer.refresh_from_db()
    assert older.status == OrderStatus.ALLOCATED
    assert newer.status == OrderStatus.BACKORDERED
    assert newer.lines.get().allocated_quantity == 1
    assert inventory_verify() == []


@pytest.mark.django_db
def test_unknown_skus_and_bad_lines_are_reported_together_and_nothing_is_stored(partner_a, floor) -> None:
    ProductFactory(organization=partner_a, sku="TEE")

    with pytest.raises(ValidationFailed) as raised, transaction.atomic():
        order_create(organization=partner_a, data=order_input(("NOPE", 1), ("TEE", 0), ("ALSO-NOPE", 2)), actor=SYSTEM)

    fields = [e.field for e in raised.value.errors]
    assert fields == ["lines[0].sku", "lines[1].quantity", "lines[2].sku"]
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_cod_orders_need_an_amount(partner_a, floor) -> None:
    ProductFactory(organization=partner_a, sku="TEE")

    with pytest.raises(ValidationFailed) as raised, transaction.atomic():
        order_create(
            organization=partner_a, data=order_input(("TEE", 1), payment_method=PaymentMethod.COD), actor=SYSTEM
        )

    assert raised.value.errors[0].field == "payment.cod_amount"


@pytest.mark.django_db
def test_cancel_releases_reserved_stock(partner_a, floor, stock_in) -> None:
    tee = ProductFactory(organization=partner_a, sku="TEE")
    stock_in(tee, 4)
    order = order_create(organization=partner_a, data=order_input(("TEE", 3)), actor=SYSTEM).order

    order_cancel(order=order, reason="customer changed mind", actor=SYSTEM)
    order_cancel(order=order, reason="again", actor=SYSTEM)

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert (stock_of(tee).on_hand, stock_of(tee).reserved) == (4, 0)
    assert [e.type for e in order.events.all()][-1] == "cancelled"
    assert inventory_verify() == []


@pytest.mark.django_db
def test_full_journey_pick_pack_hand_over_deliver(partner_a, floor, stock_in) -> None:
    tee = ProductFactory(organization=partner_a, sku="TEE", barcodes=["8964000000017"])
    cap = ProductFactory(organization=partner_a, sku="CAP")
    stock_in(tee, 2, bin=floor.shelf_a)
    stock_in(cap, 1, bin=floor.shelf_b)
    order = order_create(organization=partner_a, data=order_input(("TEE", 2), ("CAP", 1)), actor=SYSTEM).order

    order_start_picking(order=order, actor=SYSTEM)
    order_pick(order=order, code="8964000000017", quantity=2, bin_code="A-01-01", actor=SYSTEM)
    order_pick(order=order, code="CAP", quantity=1, actor=SYSTEM)
    with pytest.raises(ValidationFailed), transaction.atomic():
        order_pack(
            order=order, scanned_codes=["TEE", "CAP"], weight_grams=900, dimensions_mm="300x200x100", actor=SYSTEM
        )
    order_pack(
        order=order,
        scanned_codes=["TEE", "8964000000017", "CAP"],
        weight_grams=900,
        dimensions_mm="300x200x100",
        actor=SYSTEM,
    )
    order_hand_over(order=order, carrier="aes_riders", actor=SYSTEM)
    order_record_delivery(order=order, delivered=True, note="", actor=SYSTEM)

    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert tracking_code_is_valid(order.tracking_code)
    assert (stock_of(tee).on_hand, stock_of(tee).reserved) == (0, 0)
    assert [e.type for e in order.events.all()] == [
        "received",
        "allocated",
        "picking",
        "picked",
        "picked",
        "packed",
        "handed_over",
        "delivered",
    ]
    assert inventory_verify() == []


@pytest.mark.django_db
def test_illegal_transition_is_a_clear_error(partner_a, floor, stock_in) -> None:
    tee = ProductFactory(organization=partner_a, sku="TEE")
    stock_in(tee, 1)
    order = order_create(organization=partner_a, data=order_input(("TEE", 1)), actor=SYSTEM).order

    with pytest.raises(IllegalTransition, match="allocated cannot become handed over"), transaction.atomic():
        order_hand_over(order=order, carrier="tcs", actor=SYSTEM)

    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED


@pytest.mark.django_db
def test_cancel_after_picking_puts_units_back_on_the_dock(partner_a, floor, stock_in) -> None:
    tee = ProductFactory(organization=partner_a, sku="TEE")
    stock_in(tee, 2)
    order = order_create(organization=partner_a, data=order_input(("TEE", 2)), actor=SYSTEM).order
    order_start_picking(order=order, actor=SYSTEM)
    order_pick(order=order, code="TEE", quantity=2, actor=SYSTEM)

    order_cancel(order=order, reason="address unreachable", actor=SYSTEM)

    assert (stock_of(tee).on_hand, stock_of(tee).reserved, stock_of(tee).available) == (2, 0, 2)
    assert tee.bin_stock.get(bin=floor.dock).quantity == 2
    assert inventory_verify() == []


@pytest.mark.django_db
def test_split_ships_what_is_allocated_and_backorders_the_rest(partner_a, floor, stock_in) -> None:
    tee = ProductFactory(organization=partner_a, sku="TEE")
    ProductFactory(organization=partner_a, sku="CAP")
    stock_in(tee, 2)
    data = order_input(("TEE", 3), ("CAP", 1), payment_method=PaymentMethod.COD, cod_amount=Decimal("4000"))
    order = order_create(organization=partner_a, data=data, actor=SYSTEM).order

    remainder = order_split_backorder(order=order, actor=SYSTEM)

    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED
    assert [(line.sku, line.quantity, line.allocated_quantity) for line in order.lines.all()] == [("TEE", 2, 2)]
    assert remainder.status == OrderStatus.BACKORDERED
    assert remainder.split_from == order
    assert remainder.external_id == f"{order.external_id}#2"
    assert sorted((line.sku, line.quantity) for line in remainder.lines.all()) == [("CAP", 1), ("TEE", 1)]
    assert (order.cod_amount, remainder.cod_amount) == (Decimal("4000"), Decimal("0"))
    assert Stock.objects.get(product=tee).reserved == 2
    assert inventory_verify() == []


@pytest.mark.django_db
def test_an_order_with_nothing_allocated_cannot_be_split(partner_a, floor) -> None:
    ProductFactory(organization=partner_a, sku="TEE")
    order = order_create(organization=partner_a, data=order_input(("TEE", 1)), actor=SYSTEM).order

    with pytest.raises(Conflict, match="nothing to ship now"), transaction.atomic():
        order_split_backorder(order=order, actor=SYSTEM)


@pytest.mark.django_db
def test_a_taken_order_number_is_drawn_again(partner_a, floor, monkeypatch) -> None:
    ProductFactory(organization=partner_a, sku="TEE")
    first = order_create(organization=partner_a, data=order_input(("TEE", 1)), actor=SYSTEM).order
    numbers = iter([first.number, "FRSH-NMBR"])
    monkeypatch.setattr("allied.orders.services.intake.new_order_number", lambda: next(numbers))

    second = order_create(organization=partner_a, data=order_input(("TEE", 1)), actor=SYSTEM)

    assert second.created
    assert second.order.number == "FRSH-NMBR"
    assert Order.objects.count() == 2


def test_an_order_for_another_warehouse_reserves_that_warehouses_stock(partner_a, floor, stock_in) -> None:
    from allied.inventory.models import BinKind
    from allied.inventory.services import inbound_create, inbound_receive
    from tests.inventory.factories import BinFactory, WarehouseFactory

    tee = ProductFactory(organization=partner_a, sku="TEE")
    stock_in(tee, 5)  # in the main warehouse (the first active one by code)
    lahore = WarehouseFactory(code="LHE-W2", name="Lahore")
    BinFactory(warehouse=lahore, code="DOCK-L", kind=BinKind.RECEIVING)
    inbound = inbound_create(
        organization=partner_a, warehouse=lahore, reference="ASN-LHE", lines=[(tee, 3)], actor=SYSTEM
    )
    inbound_receive(inbound=inbound, received={inbound.lines.get().pk: (3, 0)}, actor=SYSTEM)

    in_lahore = order_create(organization=partner_a, data=order_input(("TEE", 2)), actor=SYSTEM, warehouse=lahore)
    in_karachi = order_create(organization=partner_a, data=order_input(("TEE", 4)), actor=SYSTEM)

    assert (in_lahore.order.warehouse, in_lahore.order.status) == (lahore, OrderStatus.ALLOCATED)
    assert (in_karachi.order.warehouse, in_karachi.order.status) == (floor.warehouse, OrderStatus.ALLOCATED)
    assert Stock.objects.get(product=tee, warehouse=lahore).reserved == 2
    assert Stock.objects.get(product=tee, warehouse=floor.warehouse).reserved == 4
    assert inventory_verify() == []
