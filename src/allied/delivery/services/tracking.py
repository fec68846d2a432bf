"""A stop's status changes here and nowhere else: each change is a tracking event (when, where,
who), a domain event (`delivery.<status>`) for stores and partners' webhooks, and, for a drop-off
of an order, the order's own delivered / attempt failed / returned."""

from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from allied.accounts.policy import Actor
from allied.core.carriers import carrier_name
from allied.core.event_types import DELIVERY_STATUS_CHANGED
from allied.core.events import domain_event_record
from allied.core.tracking import TrackingStatus
from allied.delivery.models import DeliveryTask, TaskKind, TrackingEvent
from allied.fulfillment.services import return_from_failed_delivery
from allied.orders.models import Order, OrderStatus
from allied.orders.services.lifecycle import order_record_delivery

S = TrackingStatus
# Where a stop may go from each status; a courier's status outside this is kept as its raw text.
NEXT: dict[str, frozenset[str]] = {
    S.CREATED: frozenset(
        {S.PICKUP_SCHEDULED, S.AT_HUB, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.RESCHEDULED, S.CANCELLED, S.EXCEPTION}
    ),
    S.PICKUP_SCHEDULED: frozenset({S.PICKED_UP, S.ATTEMPT_FAILED, S.CANCELLED, S.EXCEPTION, S.RESCHEDULED}),
    S.PICKED_UP: frozenset({S.AT_HUB, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERED, S.EXCEPTION}),
    S.AT_HUB: frozenset(
        {S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.RESCHEDULED, S.RETURN_TO_ORIGIN, S.CANCELLED, S.EXCEPTION}
    ),
    S.IN_TRANSIT: frozenset({S.AT_HUB, S.OUT_FOR_DELIVERY, S.DELIVERED, S.ATTEMPT_FAILED, S.EXCEPTION}),
    S.OUT_FOR_DELIVERY: frozenset({S.DELIVERED, S.ATTEMPT_FAILED, S.AT_HUB, S.PICKED_UP, S.EXCEPTION}),
    S.ATTEMPT_FAILED: frozenset({S.RESCHEDULED, S.OUT_FOR_DELIVERY, S.RETURN_TO_ORIGIN, S.AT_HUB, S.EXCEPTION}),
    S.RESCHEDULED: frozenset({S.OUT_FOR_DELIVERY, S.AT_HUB, S.RETURN_TO_ORIGIN, S.PICKED_UP, S.EXCEPTION}),
    S.RETURN_TO_ORIGIN: frozenset({S.RETURNED, S.EXCEPTION}),
    S.DELIVERED: frozenset(),
    S.RETURNED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXCEPTION: frozenset({S.AT_HUB, S.RETURN_TO_ORIGIN, S.DELIVERED, S.RETURNED}),
}


class TrackingRefused(Exception):
    """The stop cannot go to that status from where it is."""


def tracking_payload(task: DeliveryTask, event: TrackingEvent, order: Order | None) -> dict[str, Any]:
    return {
        "tracking_code": task.tracking_code,
        "kind": task.kind,
        "status": event.status,
        "reason": event.reason,
        "at": event.at.isoformat(),
        "place": event.place,
        "carrier": task.courier or "aes_riders",
        "order_id": order.pk if order else None,
        "order_number": order.number if order else "",
        "external_id": order.external_id if order else "",
        "channel": order.channel if order else "",
    }


@transaction.atomic(savepoint=False)
def tracking_event_record(
    *,
    task: DeliveryTask,
    status: str,
    actor: Actor,
    reason: str = "",
    place: str = "",
    at: datetime | None = None,
    lat: Any = None,
    lng: Any = None,
    source: str = "allied",
    client_action_id: UUID | None = None,
) -> TrackingEvent:
    """Move the stop (locked by the caller) to `status`, recording the event. The same rider-app
    action sent twice (`client_action_id`) is recorded once: the first event is returned."""
    if client_action_id is not None:
        earlier = TrackingEvent.objects.filter(client_action_id=client_action_id).first()
        if earlier is not None:
            return earlier
    if status not in NEXT.get(task.status, frozenset()) and status != task.status:
        raise TrackingRefused(
            f"A stop that is {TrackingStatus(task.status).label.lower()} cannot become "
            f"{TrackingStatus(status).label.lower()}."
        )
    event = TrackingEvent.objects.create(
        organization_id=task.organization_id,
        task=task,
        status=status,
        reason=reason[:200],
        at=at or timezone.now(),
        place=(place or task.address_area or task.address_city or task.hub.city)[:100],
        lat=lat,
        lng=lng,
        actor=actor.user,
        actor_label=actor.label if not actor.is_system else (source if source != "allied" else "system"),
        source=source,
        client_action_id=client_action_id,
    )
    task.status = status
    if status == S.ATTEMPT_FAILED:
        task.attempts += 1
    task.save(update_fields=["status", "attempts", "updated_at"])
    order = _order_follows(task, status, reason, actor)
    domain_event_record(
        type=DELIVERY_STATUS_CHANGED[status],
        organization=task.organization,
        aggregate=task,
        payload=tracking_payload(task, event, order),
    )
    return event


def _order_follows(task: DeliveryTask, status: str, reason: str, actor: Actor) -> Order | None:
    """The order of a drop-off follows its last mile: delivered, attempt failed, and on its way
    back a return the warehouse receives."""
    if task.order_id is None:
        return None
    order = Order.objects.get(pk=task.order_id)
    if task.kind != TaskKind.DROP_OFF:
        return order
    system = Actor.system(f"Last mile ({carrier_name(task.courier or 'aes_riders')})")
    if status == S.DELIVERED and order.status in (OrderStatus.HANDED_OVER, OrderStatus.ATTEMPT_FAILED):
        return order_record_delivery(order=order, delivered=True, note="Delivered.", actor=system)
    if status == S.ATTEMPT_FAILED and order.status == OrderStatus.HANDED_OVER:
        return order_record_delivery(order=order, delivered=False, note=reason or "Attempt failed.", actor=system)
    if status == S.RETURN_TO_ORIGIN and order.status == OrderStatus.ATTEMPT_FAILED:
        # The parcel comes back whole: the warehouse receives the return by condition and restocks.
        return_from_failed_delivery(order=order, actor=system)
    return order
