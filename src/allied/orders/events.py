"""Recorders for the order timeline and the order domain events."""

from datetime import datetime
from typing import Any

from allied.accounts.policy import Actor
from allied.core.event_types import EventType
from allied.core.events import EventRow, domain_event_record, event_row
from allied.orders.models import Order, OrderEvent


def order_payload(order: Order, lines: list[Any] | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": order.pk,
        "number": order.number,
        "channel": order.channel,
        "external_id": order.external_id,
        "status": order.status,
        "tracking_code": order.tracking_code,
        "carrier": order.carrier,
    }
    if lines is not None:
        payload["lines"] = [
            {"sku": line.sku, "quantity": line.quantity, "allocated": line.allocated_quantity} for line in lines
        ]
    return payload


def timeline_event(
    order: Order,
    *,
    type: str,
    actor: Actor,
    from_status: str = "",
    to_status: str = "",
    payload: dict[str, Any] | None = None,
) -> OrderEvent:
    """An unsaved timeline row; services save them (in bulk where there are several)."""
    return OrderEvent(
        organization_id=order.organization_id,
        order=order,
        type=type,
        from_status=from_status,
        to_status=to_status,
        payload=payload or {},
        actor_label=actor.label[:200],
    )


def order_domain_event(order: Order, *, type: EventType, lines: list[Any] | None = None, **extra: Any) -> None:
    domain_event_record(
        type=type, organization=order.organization, aggregate=order, payload=order_payload(order, lines) | extra
    )


def order_event_row(order: Order, *, type: EventType, at: datetime, lines: list[Any] | None = None) -> EventRow:
    """The same event as `order_domain_event`, as a row for the lean intake path."""
    return event_row(
        type=type,
        organization_id=order.organization_id,
        aggregate_type=order._meta.label_lower,
        aggregate_id=order.pk,
        payload=order_payload(order, lines),
        at=at,
    )
