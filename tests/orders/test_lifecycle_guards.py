"""Who may move an order on is decided in the services, whatever door the call comes through."""

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import transaction

from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.core.errors import DomainError, NotFound, PermissionDenied
from allied.orders.models import Order, OrderStatus
from allied.orders.services.intake import order_create
from allied.orders.services.lifecycle import (
    order_allocate_backordered,
    order_cancel,
    order_hand_over,
    order_mark_returned,
    order_pack,
    order_pick,
    order_record_delivery,
    order_split_backorder,
    order_start_picking,
)
from tests.catalog.factories import ProductFactory
from tests.orders.factories import order_input

SYSTEM = Actor.system("tests")

AES_ONLY: dict[str, Callable[[Order, Actor], Any]] = {
    "start picking": lambda order, actor: order_start_picking(order=order, actor=actor),
    "pick": lambda order, actor: order_pick(order=order, code="TEE", quantity=1, actor=actor),
    "pack": lambda order, actor: order_pack(
        order=order, scanned_codes=["TEE"], weight_grams=300, dimensions_mm="", actor=actor
    ),
    "hand over": lambda order, actor: order_hand_over(order=order, carrier="tcs", actor=actor),
    "record delivery": lambda order, actor: order_record_delivery(order=order, delivered=True, note="", actor=actor),
    "mark returned": lambda order, actor: order_mark_returned(order=order, actor=actor),
    "allocate backorder": lambda order, actor: order_allocate_backordered(order_id=order.pk, actor=actor),
}


def partner_key(organization: Any) -> Actor:
    """What an `orders:write` API key of the partner acts as."""
    return Actor(organization=organization, api_key=SimpleNamespace(scopes=["orders:write"], prefix="k", name="app"))


def refusal(action: Callable[[], Any]) -> DomainError:
    with pytest.raises(DomainError) as refused, transaction.atomic():
        action()
    return refused.value


@pytest.fixture
def order(partner_a, floor, stock_in) -> Order:
    stock_in(ProductFactory(organization=partner_a, sku="TEE"), 5)
    return order_create(organization=partner_a, data=order_input(("TEE", 1)), actor=SYSTEM).order


@pytest.mark.django_db
@pytest.mark.parametrize("action", list(AES_ONLY))
@pytest.mark.parametrize("as_partner", ["api key with orders:write", "owner", "manager"])
def test_partners_cannot_do_aes_floor_or_road_work_on_their_own_orders(order, partner_a, member, action, as_partner):
    if as_partner == "api key with orders:write":
        actor = partner_key(partner_a)
    else:
        membership = member(partner_a, role=as_partner)
        actor = Actor(user=membership.user, organization=partner_a, role=membership.role)

    assert isinstance(refusal(lambda: AES_ONLY[action](order, actor)), PermissionDenied)
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.WAREHOUSE, {"start picking", "pick", "pack", "hand over", "mark returned", "allocate backorder"}),
        (Role.RIDER, {"record delivery"}),
        (Role.DISPATCHER, {"record delivery"}),
        (Role.SUPPORT, set()),
        (Role.FINANCE, set()),
    ],
)
def test_each_aes_role_does_only_its_own_part(order, operator_org, member, role, allowed) -> None:
    membership = member(operator_org, role=role)
    actor = Actor(user=membership.user, organization=operator_org, role=membership.role)
    for action, run in AES_ONLY.items():
        try:
            with transaction.atomic():  # as an entry point would: a refusal rolls back only this
                run(order, actor)
        except PermissionDenied:
            assert action not in allowed, f"{role} was refused {action}"
        except DomainError:
            assert action in allowed, f"{role} got past the guard of {action}"  # refused by the state table
        else:
            assert action in allowed, f"{role} may not {action}"


@pytest.mark.django_db
def test_the_full_road_needs_warehouse_staff_then_a_rider(order, operator_org, member) -> None:
    warehouse = member(operator_org, role=Role.WAREHOUSE)
    rider = member(operator_org, role=Role.RIDER)
    floor_actor = Actor(user=warehouse.user, organization=operator_org, role=Role.WAREHOUSE)
    road_actor = Actor(user=rider.user, organization=operator_org, role=Role.RIDER)
    for action in ("start picking", "pick", "pack", "hand over"):
        AES_ONLY[action](order, floor_actor)

    AES_ONLY["record delivery"](order, road_actor)

    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED


@pytest.mark.django_db
def test_a_partner_cancels_its_own_orders_and_never_another_partners(order, partner_a, partner_b) -> None:
    assert isinstance(refusal(lambda: order_cancel(order=order, reason="", actor=partner_key(partner_b))), NotFound)
    assert isinstance(refusal(lambda: order_split_backorder(order=order, actor=partner_key(partner_b))), NotFound)

    order_cancel(order=order, reason="changed my mind", actor=partner_key(partner_a))
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
