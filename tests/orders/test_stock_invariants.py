"""Property-based: random sequences of receipts, orders, cancellations, picks, handovers and returns never
break the books. After every step: the ledger equals the balances, nothing is negative, nothing is
oversold, and reserved units are exactly what open orders hold but have not picked."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import F, Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from allied.accounts.policy import Actor
from allied.core.address import Address
from allied.core.errors import DomainError
from allied.fulfillment.models import ReturnCondition
from allied.fulfillment.services import return_from_failed_delivery, return_receive
from allied.inventory.models import Stock
from allied.inventory.selectors import inventory_verify
from allied.inventory.services import inbound_create, inbound_receive, stock_put_away
from allied.orders.models import OrderLine, OrderStatus
from allied.orders.services.intake import LineInput, OrderInput, order_create
from allied.orders.services.lifecycle import (
    order_allocate_backordered,
    order_cancel,
    order_hand_over,
    order_pack,
    order_pick,
    order_record_delivery,
    order_start_picking,
    orders_backordered_for,
)
from tests.catalog.factories import ProductFactory

SYSTEM = Actor.system("property test")
SKUS = ["P0", "P1", "P2"]


class StockBooks(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.orders: list[object] = []
        self.counter = 0

    @initialize()
    def set_up(self) -> None:
        self.organization = self.partner
        self.products = [ProductFactory(organization=self.organization, sku=sku) for sku in SKUS]

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def attempt(self, action: object) -> None:
        """Run one service as an entry point would: a refusal leaves everything as it was."""
        try:
            with transaction.atomic():
                action()  # type: ignore[operator]
        except DomainError:
            pass

    def serve_backorders(self) -> None:
        """What the allocate_backorders task does after units arrive or are released."""
        for order_id in orders_backordered_for(
            warehouse_id=self.floor.warehouse.pk, product_ids=[p.pk for p in self.products]
        ):
            order_allocate_backordered(order_id=order_id, actor=SYSTEM)

    @rule(product=st.integers(0, 2), quantity=st.integers(1, 6))
    def receive(self, product: int, quantity: int) -> None:
        self.counter += 1
        item = self.products[product]

        def act() -> None:
            inbound = inbound_create(
                organization=self.organization,
                warehouse=self.floor.warehouse,
                reference=f"R{self.counter}",
                lines=[(item, quantity)],
                actor=SYSTEM,
            )
            inbound_receive(inbound=inbound, received={inbound.lines.get().pk: (quantity, 0)}, actor=SYSTEM)
            stock_put_away(
                product=item, from_bin=self.floor.dock, to_bin=self.floor.shelf_a, quantity=quantity, actor=SYSTEM
            )

        self.attempt(act)
        self.serve_backorders()

    @rule(lines=st.dictionaries(st.integers(0, 2), st.integers(1, 4), min_size=1, max_size=3))
    def order(self, lines: dict[int, int]) -> None:
        self.counter += 1
        data = OrderInput(
            channel="api",
            external_id=f"O{self.counter}",
            recipient_name="R",
            recipient_phone="+92 300 0000000",
            address=Address(line1="1 Main St", city="Karachi"),
            currency="PKR",
            payment_method="prepaid",
            lines=[LineInput(sku=SKUS[p], quantity=q, unit_price=Decimal("1")) for p, q in lines.items()],
        )
        self.attempt(
            lambda: self.orders.append(order_create(organization=self.organization, data=data, actor=SYSTEM).order)
        )

    @rule(index=st.integers(0, 50))
    def cancel(self, index: int) -> None:
        if self.orders:
            order = self.orders[index % len(self.orders)]
            self.attempt(lambda: order_cancel(order=order, reason="property", actor=SYSTEM))
            self.serve_backorders()

    @rule(index=st.integers(0, 50))
    def pick_everything(self, index: int) -> None:
        if not self.orders:
            return
        order = self.orders[index % len(self.orders)]

        def act() -> None:
            order_start_picking(order=order, actor=SYSTEM)
            for line in OrderLine.objects.filter(order=order):
                if line.allocated_quantity > line.picked_quantity:
                    order_pick(
                        order=order,
                        code=line.sku,
                        quantity=line.allocated_quantity - line.picked_quantity,
                        actor=SYSTEM,
                    )

        self.attempt(act)

    @rule(index=st.integers(0, 50))
    def pack_and_hand_over(self, index: int) -> None:
        if not self.orders:
            return
        order = self.orders[index % len(self.orders)]

        def act() -> None:
            scans = [line.sku for line in OrderLine.objects.filter(order=order) for _ in range(line.picked_quantity)]
            order_pack(order=order, scanned_codes=scans, weight_grams=100, dimensions_mm="1x1x1", actor=SYSTEM)
            order_hand_over(order=order, carrier="aes_riders", actor=SYSTEM)

        self.attempt(act)

    @rule(index=st.integers(0, 50), restock=st.booleans())
    def fail_delivery_and_return(self, index: int, restock: bool) -> None:
        if not self.orders:
            return
        order = self.orders[index % len(self.orders)]

        def act() -> None:
            order_record_delivery(order=order, delivered=False, note="nobody home", actor=SYSTEM)
            parcel_return = return_from_failed_delivery(order=order, actor=SYSTEM)
            condition = ReturnCondition.RESTOCK if restock else ReturnCondition.QUARANTINE
            return_receive(
                parcel_return=parcel_return,
                conditions={line.pk: condition for line in parcel_return.lines.all()},
                actor=SYSTEM,
            )

        self.attempt(act)
        self.serve_backorders()

    @invariant()
    def books_agree(self) -> None:
        if not hasattr(self, "products"):
            return
        assert inventory_verify() == []
        for stock in Stock.objects.all():
            assert stock.on_hand >= stock.reserved + stock.quarantined >= 0
            held = (
                OrderLine.objects.filter(product_id=stock.product_id)
                .exclude(order__status=OrderStatus.CANCELLED)
                .aggregate(held=Sum(F("allocated_quantity") - F("picked_quantity")))["held"]
                or 0
            )
            assert stock.reserved == held
        assert not OrderLine.objects.filter(allocated_quantity__gt=F("quantity")).exists()


@pytest.mark.django_db
def test_random_sequences_keep_the_books_straight(partner_a, floor) -> None:
    StockBooks.partner = partner_a  # type: ignore[attr-defined]
    StockBooks.floor = floor  # type: ignore[attr-defined]
    run_state_machine_as_test(
        StockBooks,
        settings=settings(
            max_examples=40, stateful_step_count=20, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
