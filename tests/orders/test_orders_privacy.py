from datetime import timedelta

import pytest
from django.utils import timezone

from allied.accounts.policy import Actor
from allied.core.privacy import DataSubject, declarations, subject_erase, subject_export
from allied.core.selectors import rows_past_retention
from allied.orders.models import Order, OrderEvent, OrderStatus
from allied.orders.services.intake import order_create
from allied.orders.services.lifecycle import order_cancel
from allied.orders.state import OPEN_STATUSES
from tests.catalog.factories import ProductFactory
from tests.orders.factories import order_input

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("privacy")


def test_recipients_can_get_their_orders_and_have_closed_ones_erased(partner_a, floor, stock_in) -> None:
    ProductFactory(organization=partner_a, sku="TEE")
    mine = dict(recipient_email="hina@example.com", recipient_name="Hina Baig", tags=["gift from Hina"])
    closed = order_create(organization=partner_a, data=order_input(("TEE", 1), **mine), actor=SYSTEM).order
    open_order = order_create(organization=partner_a, data=order_input(("TEE", 1), **mine), actor=SYSTEM).order
    other = dict(recipient_email="omar@example.com", recipient_name="Omar Farooq")
    someone_else = order_create(organization=partner_a, data=order_input(("TEE", 1), **other), actor=SYSTEM).order
    order_cancel(order=someone_else, reason="", actor=SYSTEM)
    order_cancel(order=closed, reason="", actor=SYSTEM)
    subject = DataSubject(email="hina@example.com")

    exported = subject_export(subject=subject, actor=SYSTEM)
    erased = subject_erase(subject=subject, actor=SYSTEM)

    assert {o["number"] for o in exported["orders"]["orders"]} == {closed.number, open_order.number}
    assert erased["orders"] == 1
    closed.refresh_from_db()
    assert (closed.recipient_name, closed.recipient_email, closed.recipient_phone) == ("erased", "", "")
    assert closed.tags == []
    assert Order.objects.get(pk=open_order.pk).recipient_name == "Hina Baig", "the open parcel still needs it"
    assert Order.objects.get(pk=someone_else.pk).recipient_name == "Omar Farooq"


def test_orders_are_open_while_a_delivery_still_lies_ahead() -> None:
    assert {
        OrderStatus.RECEIVED,
        OrderStatus.BACKORDERED,
        OrderStatus.ALLOCATED,
        OrderStatus.PICKING,
        OrderStatus.PACKED,
        OrderStatus.HANDED_OVER,
        OrderStatus.ATTEMPT_FAILED,
    } == OPEN_STATUSES


def test_orders_are_past_retention_two_years_after_they_closed_and_never_while_open(partner_a, floor, stock_in) -> None:
    ProductFactory(organization=partner_a, sku="TEE")
    now = timezone.now()
    two_years, day = timedelta(days=2 * 365), timedelta(days=1)
    orders = {}
    for name, cancel, last_change in [
        ("closed-long-ago", True, now - two_years - day),
        ("closed-lately", True, now - two_years + day),
        ("open-for-years", False, now - 3 * two_years),
    ]:
        order = order_create(organization=partner_a, data=order_input(("TEE", 1)), actor=SYSTEM).order
        if cancel:
            order_cancel(order=order, reason="", actor=SYSTEM)
        Order.objects.filter(pk=order.pk).update(updated_at=last_change)
        OrderEvent.objects.filter(order=order).update(at=now - 3 * two_years)  # the timeline goes with its order
        orders[name] = order
    declared = declarations()

    past_orders = rows_past_retention(declared["orders.Order"], "recipient_phone", now=now)
    past_events = rows_past_retention(declared["orders.OrderEvent"], "payload", now=now)

    assert list(past_orders) == [orders["closed-long-ago"]]
    assert {event.order_id for event in past_events} == {orders["closed-long-ago"].pk}
