from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from django.db.models import Q, QuerySet

from allied.accounts.policy import ORDERS_VIEW, Actor, require
from allied.core.errors import NotFound
from allied.orders.models import Order
from allied.orders.tracking import tracking_code_normalize


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
        matches = Q(number__iexact=search) | Q(external_id__iexact=search) | Q(recipient_name__icontains=search)
        if tracking_code := tracking_code_normalize(search):
            matches |= Q(tracking_code=tracking_code)
        orders = orders.filter(matches)
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
    tracking_code = tracking_code_normalize(code)
    order = orders_visible_to(actor).filter(Q(tracking_code=tracking_code) if tracking_code else Q(number=code)).first()
    if order is None:
        raise NotFound(f"No order {code}.")
    return order


@dataclass(frozen=True)
class DeliveryStep:
    """One step of an order's parcel on its last mile, as the order page shows it."""

    at: datetime
    status: str  # in words
    place: str  # a hub, an area or a city
    who: str = ""  # the rider, the courier, "system": shown to AES staff only


# The last mile sits above orders (it imports orders, never the reverse), so it lends the order page
# its tracking events through this registry; `delivery/apps.py` registers its source.
_delivery_step_sources: dict[str, Callable[[Order], list[DeliveryStep]]] = {}


def order_delivery_steps_source(name: str, source: Callable[[Order], list[DeliveryStep]]) -> None:
    _delivery_step_sources[name] = source


def order_delivery_steps(actor: Actor, order: Order) -> list[DeliveryStep]:
    """The order's delivery timeline, oldest first; who recorded each step only for AES staff."""
    require(actor, ORDERS_VIEW)
    steps = sorted((step for source in _delivery_step_sources.values() for step in source(order)), key=lambda s: s.at)
    return steps if actor.is_operator else [replace(step, who="") for step in steps]
