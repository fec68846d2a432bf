from typing import Annotated

from django.db import transaction
from django.http import HttpRequest
from ninja import Header, Query, Router, Status
from pydantic import StringConstraints

from allied.accounts.policy import ORDERS_MANAGE, require
from allied.core.pagination import paginate_by_id
from allied.core.schemas import (
    PROBLEM_STATUSES,
    Cursor,
    DateTime,
    Limit,
    ProblemSchema,
    QueryInput,
    SafeText,
    fingerprint,
)
from allied.orders.models import Channel, Order, OrderStatus
from allied.orders.schemas import CancelIn, OrderCreateSchema, OrderDetailOut, OrderOut, OrderPageOut
from allied.orders.selectors import access_order, orders_visible_to
from allied.orders.services.intake import order_input_from, order_take_in
from allied.orders.services.lifecycle import order_cancel

router = Router(tags=["Orders"])
IdempotencyKey = Annotated[SafeText, StringConstraints(min_length=1, max_length=100)]


@router.post(
    "/orders",
    response={201: OrderOut, 200: OrderOut, PROBLEM_STATUSES: ProblemSchema},
    summary="Create an order",
    operation_id="orders_create",
)
def orders_create(
    request: HttpRequest,
    payload: OrderCreateSchema,
    idempotency_key: IdempotencyKey | None = Header(default=None, alias="Idempotency-Key"),  # type: ignore[call-arg]  # noqa: B008
) -> Status:
    """Create an order and reserve its stock at once (status `allocated`, or `backordered` when stock
    is short). Safe to retry: the same `external_id` (per channel), or the same `Idempotency-Key`,
    returns the first order with 200 instead of creating another. Needs `orders:write`."""
    actor = request.auth  # type: ignore[attr-defined]
    require(actor, ORDERS_MANAGE)
    intake = order_take_in(
        actor=actor,
        data=order_input_from(payload),
        idempotency_key=idempotency_key or "",
        fingerprint=fingerprint(payload) if idempotency_key else "",
    )
    if intake.created:
        return Status(201, intake.order)  # answered from what was just written
    return Status(200, access_order(actor, intake.order.pk))


class OrderFilters(QueryInput):
    status: OrderStatus | None = None
    channel: Channel | None = None
    search: str = ""
    created_after: DateTime | None = None
    created_before: DateTime | None = None
    cursor: Cursor | None = None
    limit: Limit = 50


@router.get(
    "/orders",
    response={200: OrderPageOut, PROBLEM_STATUSES: ProblemSchema},
    summary="List orders",
    operation_id="orders_list",
)
def orders_list(request: HttpRequest, filters: Query[OrderFilters]) -> dict:
    """Your orders, oldest first, filtered by status, channel, creation time, or a search on order
    number, your id, tracking code (with or without hyphens, in any case) or recipient name.
    Needs `orders:read`."""
    orders = orders_visible_to(
        request.auth,  # type: ignore[attr-defined]
        status=filters.status or "",
        channel=filters.channel or "",
        search=filters.search,
        created_after=filters.created_after,
        created_before=filters.created_before,
    ).prefetch_related("lines")
    page = paginate_by_id(orders, cursor=filters.cursor, limit=filters.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get(
    "/orders/{order_id}",
    response={200: OrderDetailOut, PROBLEM_STATUSES: ProblemSchema},
    summary="Get an order",
    operation_id="orders_get",
)
def orders_get(request: HttpRequest, order_id: int) -> Order:
    """One order with its lines and timeline. Orders of other organizations answer 404."""
    return access_order(request.auth, order_id)  # type: ignore[attr-defined]


@router.post(
    "/orders/{order_id}/cancel",
    response={200: OrderOut, PROBLEM_STATUSES: ProblemSchema},
    summary="Cancel an order",
    operation_id="orders_cancel",
)
def orders_cancel(request: HttpRequest, order_id: int, payload: CancelIn) -> Order:
    """Cancel an order that has not been handed over; its stock is released. Cancelling twice is
    harmless; cancelling after handover answers 409 `illegal_transition`. Needs `orders:write`."""
    actor = request.auth  # type: ignore[attr-defined]
    order = access_order(actor, order_id)  # another organization's order is 404, whatever the scopes
    require(actor, ORDERS_MANAGE)
    with transaction.atomic(durable=True):
        order_cancel(order=order, reason=payload.reason, actor=actor)
    return access_order(actor, order_id)
