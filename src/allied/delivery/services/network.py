"""The last mile's network: hubs and the areas they serve, riders on their vehicles, and the
shifts routes are planned in. AES dispatch's alone (`require_dispatch`). Every input is checked
whole and refused with all its field errors at once, before anything is written."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from allied.accounts.models import Membership, User
from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.accounts.selectors import operator_organization
from allied.accounts.services import user_create_member
from allied.core.audit import audit_record
from allied.core.contact import email_check
from allied.core.errors import Conflict, FieldError, ValidationFailed
from allied.delivery.models import Hub, Rider, Shift, VehicleType
from allied.delivery.services.planning import require_dispatch

HUB_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,15}$")
MAX_DETOUR = Decimal("5")
MAX_AREAS = 200
MAX_POLYGON_POINTS = 500
MAX_PARCELS = 10_000
MAX_KG = Decimal("99999.9")
MAX_FIXED_COST = 10_000_000


@dataclass(frozen=True)
class HubInput:
    code: str
    name: str
    address_line1: str
    city: str
    lat: Decimal
    lng: Decimal
    detour_factor: Decimal = Decimal("1.30")
    service_areas: Sequence[str] = ()
    service_polygon: Sequence[Sequence[Any]] = ()
    day_start: time = time(8)
    day_end: time = time(20)
    is_active: bool = True

    @classmethod
    def of(cls, hub: Hub) -> "HubInput":
        return cls(**{f.name: getattr(hub, f.name) for f in fields(cls)})


def _in_range(value: Any, low: int, high: int) -> bool:
    try:
        return low <= Decimal(str(value)) <= high
    except (InvalidOperation, ValueError, TypeError):
        return False


def _hub_checked(data: HubInput) -> tuple[HubInput, list[FieldError]]:
    """The hub in its stored form (code upper-case, text stripped, polygon as floats) and every
    problem with it."""
    errors: list[FieldError] = []
    code = data.code.strip().upper()
    if not HUB_CODE.match(code):
        errors.append(FieldError("code", "Up to 16 letters, digits and hyphens, such as KHI-H1."))
    for name in ("name", "address_line1", "city"):
        if not str(getattr(data, name)).strip():
            errors.append(FieldError(name, "Required."))
    if not _in_range(data.lat, -90, 90):
        errors.append(FieldError("lat", "A latitude is between -90 and 90."))
    if not _in_range(data.lng, -180, 180):
        errors.append(FieldError("lng", "A longitude is between -180 and 180."))
    detour = data.detour_factor
    if _in_range(detour, 1, int(MAX_DETOUR)):
        detour = Decimal(str(detour)).quantize(Decimal("0.01"))
    else:
        errors.append(FieldError("detour_factor", f"Between 1 (roads as straight as the crow flies) and {MAX_DETOUR}."))
    areas = list(dict.fromkeys(str(area).strip() for area in data.service_areas))
    if len(areas) > MAX_AREAS:
        errors.append(FieldError("service_areas", f"At most {MAX_AREAS} areas."))
    if any(not area or len(area) > 100 for area in areas):
        errors.append(FieldError("service_areas", "Each area is a name or postcode of 1 to 100 characters."))
    polygon: list[list[float]] = []
    if data.service_polygon:
        if not 3 <= len(data.service_polygon) <= MAX_POLYGON_POINTS:
            errors.append(FieldError("service_polygon", f"A polygon has 3 to {MAX_POLYGON_POINTS} points."))
        for index, point in enumerate(data.service_polygon):
            if len(point) != 2 or not _in_range(point[0], -90, 90) or not _in_range(point[1], -180, 180):
                errors.append(
                    FieldError(f"service_polygon[{index}]", "A point is [lat, lng], within -90..90 and -180..180.")
                )
            else:
                polygon.append([float(point[0]), float(point[1])])
    if data.day_end <= data.day_start:
        errors.append(FieldError("day_end", "The hub's day ends after it starts."))
    checked = replace(
        data,
        code=code,
        name=data.name.strip(),
        address_line1=data.address_line1.strip(),
        city=data.city.strip(),
        detour_factor=detour,
        service_areas=areas,
        service_polygon=polygon,
    )
    return checked, errors


def _hub_values(data: HubInput) -> dict[str, Any]:
    return {f.name: getattr(data, f.name) for f in fields(HubInput) if f.name != "code"} | {
        "service_areas": list(data.service_areas),
        "service_polygon": [list(point) for point in data.service_polygon],
    }


@transaction.atomic(savepoint=False)
def hub_create(*, data: HubInput, actor: Actor) -> Hub:
    """A new hub under a code no other hub has (409 when taken); a hub that names no area and no
    polygon serves its city."""
    require_dispatch(actor)
    data, errors = _hub_checked(data)
    if errors:
        raise ValidationFailed("The hub cannot be created.", errors=errors)
    if Hub.objects.filter(code__iexact=data.code).exists():
        raise Conflict(f"A hub {data.code} exists.", errors=[FieldError("code", "Another hub has this code.")])
    return Hub.objects.create(code=data.code, **_hub_values(data))


@transaction.atomic(savepoint=False)
def hub_update(*, hub: Hub, changes: Mapping[str, Any], actor: Actor) -> Hub:
    """Change any of a hub's fields but its code (what URLs and tasks name it by); the hub as it
    would be is checked whole, so a new end of day is compared with the start it keeps."""
    require_dispatch(actor)
    unknown = (set(changes) - {f.name for f in fields(HubInput)}) | ({"code"} & set(changes))
    if unknown:
        raise ValueError(f"hub_update cannot change {sorted(unknown)}")
    hub.refresh_from_db()
    data, errors = _hub_checked(replace(HubInput.of(hub), **changes))
    if errors:
        raise ValidationFailed("The hub was not changed.", errors=errors)
    for name, value in _hub_values(data).items():
        setattr(hub, name, value)
    hub.save()
    return hub


def _existing_user_errors(user: User) -> list[FieldError]:
    if Rider.objects.filter(user=user).exists():
        return [FieldError("email", "Already a rider.", "taken")]
    errors = []
    for membership in Membership.objects.filter(user=user).select_related("organization"):
        if not membership.organization.is_operator:
            errors.append(FieldError("email", "This person belongs to a partner's team, not to AES."))
        elif membership.role != Role.RIDER:
            errors.append(
                FieldError("email", f"Already AES staff as {membership.get_role_display().lower()}: not a rider.")
            )
    return errors


@transaction.atomic(savepoint=False)
def rider_create(
    *,
    email: str,
    full_name: str,
    hub_code: str,
    vehicle_type_code: str,
    capacity_parcels: int | None = None,
    capacity_kg: Decimal | None = None,
    fixed_cost: int = 20_000,
    actor: Actor,
) -> Rider:
    """A rider based at a hub, on a vehicle type: an AES user with the rider role, created by
    e-mail address (without a password: they set one through a reset) or reused when that person
    is already an AES rider without a rider profile, or has no team at all. Capacities default to
    the vehicle type's."""
    require_dispatch(actor)
    errors: list[FieldError] = []
    try:
        email = email_check(email, field="email").lower()
    except ValidationFailed as invalid:
        errors += invalid.errors
    if not email:
        errors.append(FieldError("email", "Required."))
    if not full_name.strip():
        errors.append(FieldError("full_name", "Required."))
    hub = Hub.objects.filter(code=hub_code.strip().upper(), is_active=True).first()
    if hub is None:
        errors.append(FieldError("hub", f"No active hub {hub_code!r}."))
    vehicle_type = VehicleType.objects.filter(code=vehicle_type_code).first()
    if vehicle_type is None:
        known = ", ".join(VehicleType.objects.values_list("code", flat=True))
        errors.append(FieldError("vehicle_type", f"One of {known}."))
    default_parcels, default_kg = (
        (vehicle_type.capacity_parcels, vehicle_type.capacity_kg) if vehicle_type else (1, Decimal(1))
    )
    parcels = default_parcels if capacity_parcels is None else capacity_parcels
    kg = default_kg if capacity_kg is None else capacity_kg
    if not 0 < parcels <= MAX_PARCELS:
        errors.append(FieldError("capacity_parcels", f"Between 1 and {MAX_PARCELS} parcels."))
    if not 0 < kg <= MAX_KG:
        errors.append(FieldError("capacity_kg", f"More than 0 and at most {MAX_KG} kg."))
    if not 0 <= fixed_cost <= MAX_FIXED_COST:
        errors.append(FieldError("fixed_cost", f"Between 0 and {MAX_FIXED_COST} (metres of driving)."))
    user = User.objects.filter(email__iexact=email).first() if email else None
    if user is not None:
        errors += _existing_user_errors(user)
    if errors:
        raise ValidationFailed("The rider cannot be created.", errors=errors)
    assert hub is not None  # both checked above
    assert vehicle_type is not None
    aes = operator_organization()
    if user is None:
        user = user_create_member(
            email=email, password=None, full_name=full_name.strip(), organization=aes, role=Role.RIDER, actor=actor
        ).user
    elif not Membership.objects.filter(user=user, organization=aes).exists():
        membership = Membership.objects.create(user=user, organization=aes, role=Role.RIDER)
        audit_record(
            action="membership.created", actor=actor, organization=aes, target=membership, changes={"role": Role.RIDER}
        )
    return Rider.objects.create(
        user=user,
        hub=hub,
        vehicle_type=vehicle_type,
        capacity_parcels=parcels,
        capacity_kg=Decimal(kg).quantize(Decimal("0.1")),
        fixed_cost=fixed_cost,
    )


@transaction.atomic(savepoint=False)
def shift_set(*, rider: Rider, day: date, start: time, end: time, actor: Actor) -> Shift:
    """The rider works from `start` to `end` on `day`: that day's shift, replaced if it had one."""
    require_dispatch(actor)
    errors = []
    if day < timezone.localdate():
        errors.append(FieldError("date", "The day has passed."))
    if end <= start:
        errors.append(FieldError("end", "A shift ends after it starts."))
    if not rider.is_active:
        errors.append(FieldError("rider", "The rider is not active."))
    if errors:
        raise ValidationFailed("The shift cannot be set.", errors=errors)
    shift, _ = Shift.objects.update_or_create(rider=rider, date=day, defaults={"start": start, "end": end})
    return shift
