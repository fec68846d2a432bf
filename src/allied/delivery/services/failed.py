"""Stops that need a person: the failed-deliveries (NDR) queue, where AES dispatch and the sending
partner decide what happens after a failed attempt (another day, a corrected address or phone, or
back to the sender), the automatic return after too many failed attempts, and a dispatcher's pin
for a stop that has no coordinates. A stop's status still changes only through
`tracking_event_record`; what these services add is who may ask, and the checks before."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from allied.accounts.policy import DELIVERY_MANAGE, DELIVERY_REQUEST, Actor, actor_can
from allied.core.address import Address, CoordinatesSource
from allied.core.audit import audit_record
from allied.core.contact import phone_normalize
from allied.core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from allied.core.models import DomainEvent
from allied.core.outbox import consumer
from allied.core.tracking import TrackingStatus
from allied.delivery.models import OPEN_STATUSES, DeliveryTask, TrackingEvent
from allied.delivery.services.planning import require_dispatch
from allied.delivery.services.tasks import hub_serves
from allied.delivery.services.tracking import tracking_event_record

S = TrackingStatus
NO_COORDINATES = "No coordinates: place a pin."
REATTEMPT_WITHIN_DAYS = 30  # further out, the parcel is better sent back and booked again
_MICRODEGREE = Decimal("0.000001")


def may_handle_failed(actor: Actor) -> bool:
    """AES dispatch handles every partner's failed stops; a partner's owner and managers their own."""
    if actor.is_operator:
        return actor_can(actor, DELIVERY_MANAGE)
    return actor_can(actor, DELIVERY_REQUEST)


def _require_handler(actor: Actor) -> None:
    if not may_handle_failed(actor):
        raise PermissionDenied("Your role does not allow this (delivery.manage or delivery.request).")


def access_task(actor: Actor, task_id: int, *, for_update: bool) -> DeliveryTask:
    """The stop through the actor's tenant: another partner's stop, or none, is NotFound."""
    tasks = DeliveryTask.objects.visible_to(actor).select_related("hub", "organization")
    if for_update:
        tasks = tasks.select_for_update(no_key=True, of=("self",))
    try:
        return tasks.get(pk=task_id)
    except DeliveryTask.DoesNotExist:
        raise NotFound("No such stop.") from None


def failed_deliveries(actor: Actor) -> QuerySet[DeliveryTask]:
    """Stops whose last attempt failed, oldest first, each with its last tracking event."""
    last = TrackingEvent.objects.filter(task=OuterRef("pk")).order_by("-at", "-id")
    return (
        DeliveryTask.objects.visible_to(actor)
        .filter(status=S.ATTEMPT_FAILED)
        .select_related("hub", "organization")
        .annotate(
            last_event_at=Subquery(last.values("at")[:1]),
            last_event_reason=Subquery(last.values("reason")[:1]),
            last_event_place=Subquery(last.values("place")[:1]),
            last_event_by=Subquery(last.values("actor_label")[:1]),
        )
        .order_by("updated_at", "pk")
    )


def _off_the_route(task: DeliveryTask) -> None:
    task.route, task.sequence, task.planned_arrival = None, None, None


@transaction.atomic(savepoint=False)
def task_reattempt(*, task: DeliveryTask, day: date, actor: Actor) -> DeliveryTask:
    """Try the failed stop again on `day` (today or later): rescheduled, moved to that day and off
    the route it failed on, for the next plan of that day to place."""
    _require_handler(actor)
    today = timezone.localdate()
    if day < today:
        raise ValidationFailed("Pick another day.", errors=[FieldError("date", "The day has passed.")])
    if day > today + timedelta(days=REATTEMPT_WITHIN_DAYS):
        raise ValidationFailed(
            "Pick another day.",
            errors=[FieldError("date", f"Within {REATTEMPT_WITHIN_DAYS} days; later, return it and book again.")],
        )
    task = access_task(actor, task.pk, for_update=True)
    if task.status == S.RESCHEDULED and task.date == day:
        return task
    if task.status != S.ATTEMPT_FAILED:
        raise Conflict(f"The stop is {S(task.status).label.lower()}: only a failed stop is tried again.")
    tracking_event_record(
        task=task, status=S.RESCHEDULED, actor=actor, reason=f"Another attempt on {day:%d %b %Y}.", place=task.hub.name
    )
    task.date = day
    _off_the_route(task)
    task.save(update_fields=["date", "route", "sequence", "planned_arrival", "updated_at"])
    # A failed pickup of a paired job takes its drop-off along: same rider, pickup first, one day.
    DeliveryTask.objects.filter(pickup=task, status__in=OPEN_STATUSES).update(
        date=day, route=None, sequence=None, planned_arrival=None
    )
    return task


@dataclass(frozen=True)
class ContactInput:
    """A corrected address and phone; coordinates are not given here (a pin places them)."""

    line1: str
    city: str
    phone: str
    line2: str = ""
    area: str = ""
    postcode: str = ""


@transaction.atomic(savepoint=False)
def task_contact_update(*, task: DeliveryTask, data: ContactInput, actor: Actor) -> DeliveryTask:
    """Correct an open stop's address or phone, checked as a new stop's are (every field at once).
    A new address clears the coordinates and takes the stop off its route: the old point would
    send the rider to the wrong door, so the stop waits for a pin before it is planned again."""
    _require_handler(actor)
    task = access_task(actor, task.pk, for_update=True)
    if task.status not in OPEN_STATUSES:
        raise Conflict(f"The stop is {S(task.status).label.lower()}: its address can no longer change.")
    errors: list[FieldError] = []
    if not data.line1.strip():
        errors.append(FieldError("line1", "A street line is needed."))
    if not data.city.strip():
        errors.append(FieldError("city", "A city is needed."))
    phone = task.contact_phone
    try:
        phone = phone_normalize(data.phone, default_country=task.organization.default_country, field="phone")
    except ValidationFailed as invalid:
        errors += invalid.errors
    old = task.address
    new = Address(
        line1=data.line1.strip(),
        line2=data.line2.strip(),
        area=data.area.strip(),
        city=data.city.strip(),
        region=old.region,
        postcode=data.postcode.strip(),
        country=old.country,
    )
    moved = (new.line1, new.line2, new.area, new.city, new.postcode) != (
        old.line1,
        old.line2,
        old.area,
        old.city,
        old.postcode,
    )
    # A courier's parcel goes wherever the courier goes: the hub's areas are its riders'.
    if moved and not errors and not task.courier and not hub_serves(task.hub, new):
        errors.append(FieldError("city", f"Outside the areas hub {task.hub.code} serves."))
    if errors:
        raise ValidationFailed("Nothing was changed: fix these fields.", errors=errors)
    if not moved and phone == task.contact_phone:
        return task
    # Which details changed, not their values: the audit log outlives a recipient's erasure.
    changed: list[str] = []
    if phone != task.contact_phone:
        changed.append("contact_phone")
        task.contact_phone = phone
    if moved:
        changed.append("address")
        for column, value in new.columns().items():
            setattr(task, column, value)
        if not task.courier:  # a courier finds the door by the address; a rider needs a pin
            task.unplanned_reason = NO_COORDINATES
        _off_the_route(task)
    task.save()
    audit_record(
        action="delivery.contact_updated",
        actor=actor,
        organization=task.organization,
        target=task,
        changes={"changed": changed},
    )
    return task


@transaction.atomic(savepoint=False)
def task_return_to_origin(*, task: DeliveryTask, actor: Actor, reason: str = "") -> DeliveryTask:
    """Send a failed stop back to its sender. For an order's drop-off, the tracking service opens
    the return the warehouse receives (and restocks)."""
    _require_handler(actor)
    task = access_task(actor, task.pk, for_update=True)
    return _return(task, actor, reason or "Returned to the sender on request.")


def _return(task: DeliveryTask, actor: Actor, reason: str) -> DeliveryTask:
    if task.status == S.RETURN_TO_ORIGIN:
        return task
    if task.status not in (S.ATTEMPT_FAILED, S.RESCHEDULED):
        raise Conflict(f"The stop is {S(task.status).label.lower()}: only a failed stop goes back from here.")
    tracking_event_record(task=task, status=S.RETURN_TO_ORIGIN, actor=actor, reason=reason, place=task.hub.name)
    _off_the_route(task)
    task.save(update_fields=["route", "sequence", "planned_arrival", "updated_at"])
    return task


@consumer("delivery.return_after_failed_attempts", event_types=["delivery.attempt_failed"])
def return_after_failed_attempts(event: DomainEvent) -> None:
    """After `ALLIED_MAX_DELIVERY_ATTEMPTS` failed attempts a stop goes back to its sender by
    itself. Reads the stop under its lock, so an operator's decision made meanwhile (another day,
    a return) stands: only a stop still failed, with enough attempts, is sent back."""
    if event.aggregate_type != DeliveryTask._meta.label_lower:
        return
    limit = settings.ALLIED_MAX_DELIVERY_ATTEMPTS
    task = (
        DeliveryTask.objects.select_for_update(no_key=True, of=("self",))
        .select_related("hub", "organization")
        .filter(pk=int(event.aggregate_id))
        .first()
    )
    if task is None or task.status != S.ATTEMPT_FAILED or task.attempts < limit:
        return
    actor = Actor.system(f"Return after {limit} failed attempts")
    _return(task, actor, f"{task.attempts} failed delivery attempts.")


@transaction.atomic(savepoint=False)
def task_place_pin(*, task: DeliveryTask, lat: Decimal, lng: Decimal, actor: Actor) -> DeliveryTask:
    """A dispatcher places a stop on the map (a stop without coordinates, or a wrong point): the
    next plan can route it. AES dispatch only."""
    require_dispatch(actor)
    errors = []
    if not -90 <= lat <= 90:
        errors.append(FieldError("lat", "A latitude is between -90 and 90."))
    if not -180 <= lng <= 180:
        errors.append(FieldError("lng", "A longitude is between -180 and 180."))
    if errors:
        raise ValidationFailed("The pin was not placed.", errors=errors)
    task = access_task(actor, task.pk, for_update=True)
    if task.status not in OPEN_STATUSES:
        raise Conflict(f"The stop is {S(task.status).label.lower()}: it is not planned any more.")
    task.address_lat = lat.quantize(_MICRODEGREE, rounding=ROUND_HALF_UP)
    task.address_lng = lng.quantize(_MICRODEGREE, rounding=ROUND_HALF_UP)
    task.address_coordinates_source = CoordinatesSource.PIN
    task.unplanned_reason = ""  # whatever the last plan said, the next one decides again
    task.save(
        update_fields=["address_lat", "address_lng", "address_coordinates_source", "unplanned_reason", "updated_at"]
    )
    return task
