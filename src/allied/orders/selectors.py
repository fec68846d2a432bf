from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.db.models import Q, QuerySet

from allied.accounts.policy import ORDERS_VIEW, Actor, require
from allied.core import sql
from allied.core.errors import NotFound
from allied.inventory.models import Warehouse
from allied.orders.models import Order


class ProductForIntake(NamedTuple):
    id: int
    sku: str
    name: str
    is_active: bool


@dataclass(frozen=True)
class IntakeLookup:
    """What taking in an order needs to know first, read in one statement."""

    existing_order_id: int | None  # the same (channel, external id) was taken in before
    number_taken: bool  # the order number drawn for the new order belongs to another
    next_order_id: int
    default_warehouse: Warehouse | None  # AES's main warehouse: the first active one by code
    products: dict[str, ProductForIntake]


def intake_lookup(
    *, organization_id: int, channel: str, external_id: str, number: str, skus: list[str]
) -> IntakeLookup:
    """One round trip for the order intake, the platform's hottest path (docs/benchmarks.md)."""
    next_order_id = sql.next_id(Order)
    statement = (
        "SELECT 'order', id, CAST(NULL AS text), CAST(NULL AS text), CAST(NULL AS boolean) FROM orders_order"  # noqa: S608
        " WHERE organization_id = %s AND channel = %s AND external_id = %s"
        " UNION ALL SELECT 'number', id, NULL, NULL, NULL FROM orders_order WHERE number = %s"
        f" UNION ALL SELECT 'next', {next_order_id}, NULL, NULL, NULL"
        " UNION ALL SELECT 'warehouse', id, code, NULL, NULL FROM"
        " (SELECT id, code FROM inventory_warehouse WHERE is_active ORDER BY code LIMIT 1) AS main"
    )
    params: list[object] = [organization_id, channel, external_id, number]
    if skus:
        wanted = sql.any_of("p.sku", skus, "text")
        statement += " UNION ALL SELECT 'product', p.id, p.sku, p.name, p.is_active FROM catalog_product p"
        statement += f" WHERE p.organization_id = %s AND {wanted.sql}"
        params += [organization_id, *wanted.params]
    existing, number_taken, next_id, warehouse, products = None, False, 0, None, {}
    for kind, row_id, text, name, is_active in sql.fetch(statement, params):
        if kind == "order":
            existing = row_id
        elif kind == "number":
            number_taken = True
        elif kind == "next":
            next_id = row_id
        elif kind == "warehouse":
            warehouse = sql.instance(Warehouse, ("id", "code"), (row_id, text))
        else:
            products[text] = ProductForIntake(row_id, text, name, bool(is_active))
    return IntakeLookup(existing, number_taken, next_id, warehouse, products)


def orders_visible_to(
    actor: Actor,
    *,
    status: str = "",
    channel: str = "",
    search: str = "",
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    organization_slug: str = "",
) -> QuerySet[Order]:
    require(actor, ORDERS_VIEW)
    orders = Order.objects.visible_to(actor).select_related("organization", "warehouse")
    if status:
        orders = orders.filter(status=status)
    if channel:
        orders = orders.filter(channel=channel)
    if organization_slug:
        orders = orders.filter(organization__slug=organization_slug)
    if search:
        orders = orders.filter(
            Q(number__iexact=search)
            | Q(external_id__iexact=search)
            | Q(tracking_code__iexact=search)
            | Q(recipient_name__icontains=search)
        )
    if created_after:
        orders = orders.filter(created_at__gte=created_after)
    if created_before:
        orders = orders.filter(created_at__lt=created_before)
    return orders


def access_order(actor: Actor, order_id: int) -> Order:
    require(actor, ORDERS_VIEW)
    try:
        return orders_visible_to(actor).prefetch_related("lines", "events").get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound("No such order.") from None


def access_order_by_code(actor: Actor, code: str) -> Order:
    """An order by its number or tracking code, as typed or scanned."""
    require(actor, ORDERS_VIEW)
    code = code.strip().upper()
    order = orders_visible_to(actor).filter(Q(number=code) | Q(tracking_code=code)).first()
    if order is None:
        raise NotFound(f"No order {code}.")
    return order
