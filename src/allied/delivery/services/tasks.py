"""Delivery tasks: drop-offs made from handed-over parcels, pickups from a partner's address or a
recipient's return, and paired same-day jobs (collect at a shop, deliver to a customer). Every
input is checked whole before anything is stored: one bad stop in a bulk stores none."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from allied.accounts.models import Organization
from allied.accounts.policy import DELIVERY_MANAGE, DELIVERY_REQUEST, Actor, actor_can
from allied.core.address import Address
from allied.core.contact import phone_normalize
from allied.core.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from allied.core.tracking import TrackingStatus
from allied.delivery.geocoding import located
from allied.delivery.models import DeliveryTask, Hub, TaskKind
from allied.delivery.services.tracking import tracking_event_record
from allied.orders.models import Order
from allied.orders.tracking import tracking_code_generate


@dataclass(frozen=True)
class TaskInput:
    kind: str
    hub_code: str
    date: date
    address: Address
    contact_name: str
    contact_phone: str
    window_start: time | None = None
    window_end: time | None = None
    service_minutes: int = 5
    parcels: int = 1
    weight_grams: int = 500
    cod_amount: Decimal = Decimal("0")
    instructions: str = ""
    reference: str = ""


@dataclass(frozen=True)
class PairInput:
    """A same-day job: collect here, deliver there; one rider, pickup first."""

    pickup: TaskInput
    drop_off: TaskInput


def _may_request(actor: Actor, organization: Organization) -> None:
    if actor_can(actor, DELIVERY_MANAGE) and actor.is_operator:
        return
    if not actor_can(actor, DELIVERY_REQUEST):
        raise PermissionDenied("Your role does not allow this (delivery.request).")
    if actor.organization != organization:
        raise NotFound("No such organization.")


def point_in_polygon(lat: float, lng: float, polygon: Sequence[Sequence[float]]) -> bool:
    """Ray casting over [lat, lng] vertices (a hub's area is small enough to treat as flat)."""
    inside = False
    for (lat1, lng1), (lat2, lng2) in zip(polygon, [*polygon[1:], polygon[0]], strict=True):
        if (lng1 > lng) != (lng2 > lng) and lat < (lat2 - lat1) * (lng - lng1) / (lng2 - lng1) + lat1:
            inside = not inside
    return inside


def hub_serves(hub: Hub, address: Address) -> bool:
    """Whether the hub takes stops at this address; a hub that names no area serves its city."""
    if not hub.service_areas and not hub.service_polygon:
        return address.city.strip().lower() == hub.city.strip().lower()
    names = {str(name).strip().lower() for name in hub.service_areas}
    if names & {address.area.strip().lower(), address.postcode.strip().lower(), address.city.strip().lower()} - {""}:
        return True
    if hub.service_polygon and address.lat is not None and address.lng is not None:
        return point_in_polygon(float(address.lat), float(address.lng), hub.service_polygon)
    return False


def _checked(data: TaskInput, organization: Organization, prefix: str, hubs: dict[str, Hub]) -> tuple[Any, list]:
    errors: list[FieldError] = []
    hub = hubs.get(data.hub_code)
    if hub is None:
        errors.append(FieldError(f"{prefix}hub", f"No active hub {data.hub_code!r}."))
    if data.kind not in TaskKind.values:
        errors.append(FieldError(f"{prefix}kind", f"One of {', '.join(TaskKind.values)}."))
    if data.date < timezone.localdate():
        errors.append(FieldError(f"{prefix}date", "The day has passed."))
    address = located(data.address)  # a geocoder may place what came without coordinates
    if (address.lat is None) != (address.lng is None):
        errors.append(FieldError(f"{prefix}address.lat", "Give both coordinates or neither."))
    if address.lat is not None and not -90 <= address.lat <= 90:
        errors.append(FieldError(f"{prefix}address.lat", "A latitude is between -90 and 90."))
    if address.lng is not None and not -180 <= address.lng <= 180:
        errors.append(FieldError(f"{prefix}address.lng", "A longitude is between -180 and 180."))
    if not address.line1.strip() or not address.city.strip():
        errors.append(FieldError(f"{prefix}address", "A street line and a city are needed."))
    if hub is not None and not errors and not hub_serves(hub, address):
        errors.append(FieldError(f"{prefix}address", f"Outside the areas hub {hub.code} serves."))
    if (data.window_start is None) != (data.window_end is None):
        errors.append(FieldError(f"{prefix}window_end", "Give the window's start and end, or neither."))
    elif data.window_start is not None and data.window_end is not None and data.window_end <= data.window_start:
        errors.append(FieldError(f"{prefix}window_end", "The window ends before it starts."))
    if data.parcels < 1:
        errors.append(FieldError(f"{prefix}parcels", "At least one parcel."))
    if data.weight_grams < 0:
        errors.append(FieldError(f"{prefix}weight_grams", "A weight is not negative."))
    if data.cod_amount < 0:
        errors.append(FieldError(f"{prefix}cod_amount", "Cash to collect is not negative."))
    if not 0 <= data.service_minutes <= 240:
        errors.append(FieldError(f"{prefix}service_minutes", "Between 0 and 240 minutes."))
    if not data.contact_name.strip():
        errors.append(FieldError(f"{prefix}contact_name", "Who to ask for."))
    phone = data.contact_phone
    try:
        phone = phone_normalize(
            data.contact_phone, default_country=organization.default_country, field=f"{prefix}contact_phone"
        )
    except ValidationFailed as invalid:
        errors += invalid.errors
    return replace(data, contact_phone=phone, address=address), errors


def _task(organization: Organization, data: TaskInput, hub: Hub, **extra: Any) -> DeliveryTask:
    waiting = TrackingStatus.PICKUP_SCHEDULED if data.kind != TaskKind.DROP_OFF else TrackingStatus.AT_HUB
    return DeliveryTask.objects.create(
        organization=organization,
        hub=hub,
        kind=data.kind,
        date=data.date,
        window_start=data.window_start,
        window_end=data.window_end,
        service_minutes=data.service_minutes,
        parcels=data.parcels,
        weight_grams=data.weight_grams,
        cod_amount=data.cod_amount,
        contact_name=data.contact_name.strip(),
        contact_phone=data.contact_phone,
        instructions=data.instructions.strip(),
        reference=data.reference.strip(),
        **data.address.columns(),
        **({"tracking_code": tracking_code_generate(), "status": waiting} | extra),
    )


@transaction.atomic(savepoint=False)
def delivery_tasks_create(
    *, organization: Organization, stops: Sequence[TaskInput | PairInput], actor: Actor
) -> list[DeliveryTask]:
    """Create stops and paired jobs (a pair: its pickup, then its drop-off). Every stop is checked
    first, with its index in the errors (`stops[3].address.lat`); one bad stop stores none."""
    _may_request(actor, organization)
    hubs = {hub.code: hub for hub in Hub.objects.filter(is_active=True)}
    checked: list[TaskInput | PairInput] = []
    errors: list[FieldError] = []
    for index, stop in enumerate(stops):
        prefix = f"stops[{index}]." if len(stops) > 1 else ""
        if isinstance(stop, PairInput):
            pickup, pickup_errors = _checked(stop.pickup, organization, f"{prefix}pickup.", hubs)
            drop_off, drop_errors = _checked(stop.drop_off, organization, f"{prefix}drop_off.", hubs)
            errors += pickup_errors + drop_errors
            if pickup.kind != TaskKind.PICKUP or drop_off.kind != TaskKind.DROP_OFF:
                errors.append(FieldError(f"{prefix}kind", "A pair is a pickup and a drop-off."))
            if pickup.hub_code != drop_off.hub_code:
                errors.append(FieldError(f"{prefix}drop_off.hub", "Both halves of a pair belong to one hub."))
            if pickup.date != drop_off.date:
                errors.append(FieldError(f"{prefix}drop_off.date", "Both halves of a pair happen on one day."))
            checked.append(PairInput(pickup=pickup, drop_off=drop_off))
        else:
            task, task_errors = _checked(stop, organization, prefix, hubs)
            errors += task_errors
            checked.append(task)
    if errors:
        raise ValidationFailed("Nothing was stored: fix these stops.", errors=errors)
    created: list[DeliveryTask] = []
    for stop in checked:
        if isinstance(stop, PairInput):
            pickup = _task(organization, stop.pickup, hubs[stop.pickup.hub_code])
            drop_off = _task(
                organization,
                stop.drop_off,
                hubs[stop.drop_off.hub_code],
                pickup=pickup,
                status=TrackingStatus.PICKUP_SCHEDULED,
            )
            created += [pickup, drop_off]
        else:
            created.append(_task(organization, stop, hubs[stop.hub_code]))
    for task in created:
        task.events.create(
            organization_id=task.organization_id,
            status=task.status,
            at=task.created_at,
            place=task.hub.name,
            actor=actor.user,
            actor_label=actor.label,
        )
    return created


def hub_for(address: Address) -> Hub | None:
    """The hub that serves this address: one that names its area, else one in its city."""
    hubs = list(Hub.objects.filter(is_active=True))
    return next((hub for hub in hubs if hub_serves(hub, address)), None)


def service_day(hub: Hub, now: datetime | None = None) -> date:
    """Today, or tomorrow once the hub's day is over."""
    local = timezone.localtime(now or timezone.now())
    return local.date() if local.time() < hub.day_end else local.date() + timedelta(days=1)


def order_drop_off_fields(order: Order, hub: Hub) -> dict[str, Any]:
    """What a handed-over order's drop-off takes from the order, whoever delivers it."""
    return {
        "organization_id": order.organization_id,
        "hub": hub,
        "kind": TaskKind.DROP_OFF,
        "order": order,
        "reference": order.number,
        "tracking_code": order.tracking_code or tracking_code_generate(),
        "date": service_day(hub),
        "parcels": 1,
        "weight_grams": order.package_weight_grams or 500,
        "cod_amount": order.cod_amount,
        "contact_name": order.recipient_name,
        "contact_phone": order.recipient_phone,
        "instructions": order.notes[:500],
        "status": TrackingStatus.CREATED,
    }


@transaction.atomic(savepoint=False)
def delivery_task_from_handover(*, order: Order, actor: Actor) -> DeliveryTask | None:
    """A parcel handed to AES's riders becomes a drop-off at the hub serving its address, once.
    None when no hub serves it (the order stays handed over for a dispatcher to route)."""
    existing = DeliveryTask.objects.filter(order=order, kind=TaskKind.DROP_OFF).first()
    if existing is not None:
        return existing
    address = located(order.address)
    hub = hub_for(address)
    if hub is None:
        return None
    task = DeliveryTask.objects.create(
        **order_drop_off_fields(order, hub),
        window_start=timezone.localtime(order.window_start).time() if order.window_start else None,
        window_end=timezone.localtime(order.window_end).time() if order.window_end else None,
        unplanned_reason="" if address.lat is not None else "No coordinates: place a pin.",
        **address.columns(),
    )
    tracking_event_record(task=task, status=TrackingStatus.AT_HUB, actor=actor, place=hub.name)
    return task
