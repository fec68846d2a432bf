import pytest

from allied.accounts.policy import Actor
from allied.core.errors import ValidationFailed
from allied.core.models import AppendOnlyError, DomainEvent
from allied.inventory.errors import InsufficientStock
from allied.inventory.models import BinStock, CountStatus, InboundStatus, MoveReason, Stock, StockMove
from allied.inventory.selectors import inventory_verify
from allied.inventory.services import (
    cycle_count_record,
    cycle_count_recount,
    inbound_create,
    inbound_receive,
    stock_adjust,
    stock_put_away,
)
from allied.orders.services.intake import order_create
from tests.catalog.factories import ProductFactory
from tests.domain import refused
from tests.orders.factories import order_input

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def test_receiving_records_discrepancies_and_quarantines_damaged_units(partner_a, floor) -> None:
    tee, cap = ProductFactory(organization=partner_a, sku="TEE"), ProductFactory(organization=partner_a, sku="CAP")
    inbound = inbound_create(
        organization=partner_a, warehouse=floor.warehouse, reference="PO-1", lines=[(tee, 10), (cap, 5)], actor=SYSTEM
    )
    tee_line, cap_line = inbound.lines.order_by("id")

    inbound_receive(inbound=inbound, received={tee_line.pk: (8, 1), cap_line.pk: (6, 0)}, actor=SYSTEM)

    inbound.refresh_from_db()
    tee_line.refresh_from_db()
    cap_line.refresh_from_db()
    assert inbound.status == InboundStatus.RECEIVED
    assert (tee_line.received_quantity, tee_line.damaged_quantity, tee_line.discrepancy) == (9, 1, -1)
    assert cap_line.discrepancy == 1
    tee_stock = Stock.objects.get(product=tee)
    assert (tee_stock.on_hand, tee_stock.quarantined, tee_stock.available) == (9, 1, 8)
    assert BinStock.objects.get(product=tee, bin=floor.quarantine).quantity == 1
    event = DomainEvent.objects.get(type="inbound.received")
    assert event.payload["lines"][0]["discrepancy"] == -1
    assert refused(lambda: inbound_receive(inbound=inbound, received={}, actor=SYSTEM)).code == "conflict"
    assert inventory_verify() == []


def test_partners_cannot_receive_their_own_shipments(partner_a, floor, member) -> None:
    tee = ProductFactory(organization=partner_a, sku="TEE")
    owner = member(partner_a)
    actor = Actor(user=owner.user, organization=partner_a, role=owner.role)
    inbound = inbound_create(
        organization=partner_a, warehouse=floor.warehouse, reference="PO-1", lines=[(tee, 1)], actor=actor
    )

    assert refused(lambda: inbound_receive(inbound=inbound, received={}, actor=actor)).status == 403


def test_put_away_moves_units_between_bins_without_changing_on_hand(partner_a, floor, stock_in) -> None:
    tee = ProductFactory(organization=partner_a, sku="TEE")
    stock_in(tee, 5, bin=floor.shelf_a)

    stock_put_away(product=tee, from_bin=floor.shelf_a, to_bin=floor.shelf_b, quantity=2, actor=SYSTEM)

    assert BinStock.objects.get(product=tee, bin=floor.shelf_a).quantity == 3
    assert BinStock.objects.get(product=tee, bin=floor.shelf_b).quantity == 2
    assert Stock.objects.get(product=tee).on_hand == 5
    error = refused(
        lambda: stock_put_away(product=tee, from_bin=floor.shelf_a, to_bin=floor.shelf_b, quantity=4, actor=SYSTEM)
    )
    assert isinstance(error, InsufficientStock)
    assert inventory_verify() == []


def test_adjustment_cannot_remove_units_promised_to_orders(partner_a, floor, stock_in) -> None:
    tee = ProductFactory(organization=partner_a, sku="TEE")
    stock_in(tee, 3)
    order_create(organization=partner_a, data=order_input(("TEE", 2)), actor=SYSTEM)

    error = refused(
        lambda: stock_adjust(
            product=tee, bin=floor.shelf_a, delta=-2, reason=MoveReason.ADJUST_DAMAGED, note="dropped", actor=SYSTEM
        )
    )
    stock_adjust(
        product=tee, bin=floor.shelf_a, delta=-1, reason=MoveReason.ADJUST_DAMAGED, note="dropped", actor=SYSTEM
    )

    assert "promised to orders" in error.detail
    stock = Stock.objects.get(product=tee)
    assert (stock.on_hand, stock.reserved, stock.available) == (2, 2, 0)
    move = StockMove.objects.get(reason=MoveReason.ADJUST_DAMAGED)
    assert (move.on_hand_delta, move.on_hand_after, move.note, move.actor_label) == (-1, 2, "dropped", "tests")
    event = DomainEvent.objects.filter(type="inventory.level_changed").last()
    assert (event.payload["cause"], event.payload["on_hand"]) == (MoveReason.ADJUST_DAMAGED, 2)
    assert inventory_verify() == []


def test_adjustment_needs_a_reason_code(partner_a, floor, stock_in) -> None:
    tee = ProductFactory(organization=partner_a, sku="TEE")

    error = refused(
        lambda: stock_adjust(product=tee, bin=floor.shelf_a, delta=1, reason="because", note="", actor=SYSTEM)
    )

    assert isinstance(error, ValidationFailed)
    assert error.errors[0].field == "reason"


def test_cycle_count_mismatch_needs_a_recount_which_sets_the_books(partner_a, floor, stock_in) -> None:
    tee = ProductFactory(organization=partner_a, sku="TEE")
    stock_in(tee, 10)

    matching = cycle_count_record(product=tee, bin=floor.shelf_a, counted=10, actor=SYSTEM)
    mismatch = cycle_count_record(product=tee, bin=floor.shelf_a, counted=8, actor=SYSTEM)
    assert (matching.status, mismatch.status) == (CountStatus.DONE, CountStatus.RECOUNT)
    assert Stock.objects.get(product=tee).on_hand == 10, "one count alone changes nothing"

    cycle_count_recount(count=mismatch, counted=9, actor=SYSTEM)

    mismatch.refresh_from_db()
    assert (mismatch.status, mismatch.adjustment) == (CountStatus.DONE, -1)
    assert Stock.objects.get(product=tee).on_hand == 9
    assert StockMove.objects.filter(reason=MoveReason.COUNT).get().on_hand_delta == -1
    assert inventory_verify() == []


def test_ledger_rows_cannot_be_changed(partner_a, floor, stock_in) -> None:
    stock_in(ProductFactory(organization=partner_a, sku="TEE"), 1)
    move = StockMove.objects.first()

    with pytest.raises(AppendOnlyError):
        move.save()
    with pytest.raises(AppendOnlyError):
        move.delete()
