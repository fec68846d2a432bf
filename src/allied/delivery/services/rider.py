"""The rider's day: start the route, collect at pickups, deliver with the proof the partner asks
for and the exact cash on delivery, record a failed attempt with its reason, and hand back cash
and parcels at the hub. Every action carries the phone's `client_action_id`, so an action sent
again (the phone was offline, the answer was lost) is applied once and answers as the first time.
A stop's status changes only through `tracking_event_record`."""

import base64
import binascii
import functools
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from allied.accounts.policy import DELIVERY_MANAGE, DELIVERY_RECORD, Actor, actor_can, require
from allied.core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from allied.core.tracking import TrackingStatus
from allied.delivery.models import (
    DeliveryCode,
    DeliveryTask,
    FailureReason,
    HandBack,
    Proof,
    Route,
    RouteStatus,
    TaskKind,
    TrackingEvent,
)
from allied.delivery.services.planning import rider_route_start
from allied.delivery.services.tracking import tracking_event_record
from allied.orders.tracking import tracking_code_normalize

logger = logging.getLogger(__name__)
S = TrackingStatus
SOURCE = "rider_app"
CODE_PURPOSE = "delivery"
CODE_VALID_FOR = timedelta(hours=12)
CODE_RESEND_AFTER = timedelta(seconds=60)
CODE_MAX_TRIES = 5
# With the rider, not delivered: back to the hub at the end of the day.
STILL_WITH_RIDER = (S.OUT_FOR_DELIVERY, S.ATTEMPT_FAILED, S.PICKED_UP)
_PATH_DATA = re.compile(r"^[MLml0-9.,\s-]*$")
MAX_SIGNATURE_CHARS = 40_000
PHOTO_TYPES = {b"\xff\xd8\xff": "jpg", b"\x89PNG": "png", b"RIFF": "webp"}


def send_sms(phone: str, text: str) -> None:
    """Send a text message. Allied has no SMS gateway yet (no `allied.core.sms`): the message is
    logged, so development and tests see it; a gateway replaces this one function."""
    logger.info("sms", extra={"to": phone[:-3] + "***", "text": text})


# Who may act ---------------------------------------------------------------------------------


def _is_dispatch(actor: Actor) -> bool:
    return actor.is_operator and actor_can(actor, DELIVERY_MANAGE)


def _require_rider_app(actor: Actor) -> None:
    require(actor, DELIVERY_RECORD)
    if not actor.is_operator:
        raise PermissionDenied("Only AES riders and dispatch record deliveries.")


def _may_act_on_route(actor: Actor, route: Route | None) -> None:
    """The route's own rider, or AES dispatch; nobody else, another rider included."""
    _require_rider_app(actor)
    if _is_dispatch(actor):
        return
    if route is None or actor.user is None or route.rider.user_id != actor.user.pk:
        raise PermissionDenied("This stop is on another rider's route.")
    if route.status == RouteStatus.DRAFT:
        raise Conflict("The route is not published yet.")


def routes_of(actor: Actor) -> QuerySet[Route]:
    """The routes the actor may work on: a rider's own published ones; every route for dispatch."""
    routes = Route.objects.select_related("hub", "rider__user")
    if _is_dispatch(actor):
        return routes
    if actor.user is None or not actor.is_operator or not actor_can(actor, DELIVERY_RECORD):
        return routes.none()
    return routes.filter(rider__user=actor.user).exclude(status=RouteStatus.DRAFT)


def rider_route_of_day(actor: Actor, day: date) -> Route | None:
    """The actor's own route of the day (dispatch has none of its own)."""
    if actor.user is None:
        return None
    return routes_of(actor).filter(rider__user=actor.user, date=day).first()


def access_rider_stop(actor: Actor, public_id: UUID, *, for_update: bool) -> DeliveryTask:
    """A stop of a route the actor works on; 404 for any other, so a rider learns nothing about
    other riders' stops."""
    stops = DeliveryTask.objects.select_related("route__rider__user", "hub", "organization", "pickup")
    if for_update:
        stops = stops.select_for_update(of=("self",))
    if not _is_dispatch(actor):
        stops = stops.filter(route__in=routes_of(actor))
    try:
        return stops.get(public_id=public_id)
    except DeliveryTask.DoesNotExist:
        raise NotFound("No such stop on your route.") from None


def proof_level(task: DeliveryTask) -> str:
    """What proves a delivery for the stop's partner (`ALLIED_PROOF_LEVELS`), by default a name."""
    return str(settings.ALLIED_PROOF_LEVELS.get(task.organization.slug, settings.ALLIED_PROOF_LEVEL_DEFAULT))


# Exactly once --------------------------------------------------------------------------------


def _locked(task: DeliveryTask) -> DeliveryTask:
    return (
        DeliveryTask.objects.select_for_update(of=("self",))
        .select_related("route__rider__user", "hub", "organization")
        .get(pk=task.pk)
    )


def _earlier(client_action_id: UUID, task: DeliveryTask) -> TrackingEvent | None:
    """The event this action already recorded, if it was applied before (checked under the lock)."""
    earlier = TrackingEvent.objects.filter(client_action_id=client_action_id).first()
    if earlier is not None and earlier.task_id != task.pk:
        raise Conflict("This action id was used for another stop.")
    return earlier


# Deliver -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProofInput:
    """What the rider collected at the door."""

    recipient_name: str = ""
    signature_svg: str = ""
    photo: bytes | None = None
    code: str = ""
    cod_collected: Decimal | None = None
    lat: Decimal | None = None
    lng: Decimal | None = None


class DeliveryCodeRejected(ValidationFailed):
    """The code the recipient gave is wrong: the entry point counts the try after its rollback
    (`delivery_code_try_record`), so five wrong codes lock the code out."""


def photo_from_data_url(value: str) -> bytes:
    """`data:image/jpeg;base64,...` as the phone sends it (from its offline queue) -> bytes."""
    _, _, encoded = value.partition(",")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(
            "The photo could not be read.", errors=[FieldError("photo", "Take the photo again.")]
        ) from None


def _photo_errors(photo: bytes | None) -> list[FieldError]:
    if photo is None:
        return []
    if len(photo) > settings.ALLIED_PROOF_PHOTO_MAX_BYTES:
        return [FieldError("photo", "The photo is too large: take it again.")]
    if not any(photo.startswith(magic) for magic in PHOTO_TYPES):
        return [FieldError("photo", "A photo is a JPEG, PNG or WebP image.")]
    return []


def _proof_errors(task: DeliveryTask, proof: ProofInput, level: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if level in ("name", "signature") and not proof.recipient_name.strip():
        errors.append(FieldError("recipient_name", "Write the name of the person who took the parcel."))
    if len(proof.recipient_name) > 200:
        errors.append(FieldError("recipient_name", "At most 200 characters."))
    signature = proof.signature_svg.strip()
    if level == "signature" and "L" not in signature.upper():
        errors.append(FieldError("signature_svg", "Ask the recipient to sign on the screen."))
    if signature and (len(signature) > MAX_SIGNATURE_CHARS or not _PATH_DATA.match(signature)):
        errors.append(FieldError("signature_svg", "The signature could not be read: ask for it again."))
    if level == "photo" and proof.photo is None:
        errors.append(FieldError("photo", "Take a photo of the parcel at the door."))
    errors += _photo_errors(proof.photo)
    if level == "code" and not proof.code.strip():
        errors.append(FieldError("code", "Ask the recipient for the code they received by SMS."))
    if task.cod_amount > 0:
        if proof.cod_collected is None:
            errors.append(FieldError("cod_collected", f"Collect Rs {task.cod_amount:,.2f} and confirm the amount."))
        elif proof.cod_collected != task.cod_amount:
            errors.append(
                FieldError(
                    "cod_collected",
                    f"Collect exactly Rs {task.cod_amount:,.2f}: you entered Rs {proof.cod_collected:,.2f}.",
                    "cod_mismatch",
                )
            )
    elif proof.cod_collected not in (None, Decimal("0")):
        errors.append(FieldError("cod_collected", "This parcel is prepaid: collect no cash.", "cod_mismatch"))
    return errors


def _code_hash(task: DeliveryTask, code: str) -> str:
    """Keyed by the site's secret: six digits alone would be found from a bare hash in a moment."""
    return salted_hmac("allied.delivery.DeliveryCode", f"{task.public_id}:{code}", algorithm="sha256").hexdigest()


def _code_check(task: DeliveryTask, code: str) -> None:
    now = timezone.now()
    current = (
        DeliveryCode.objects.select_for_update()
        .filter(task=task, purpose=CODE_PURPOSE, used_at__isnull=True, expires_at__gt=now)
        .order_by("-sent_at")
        .first()
    )
    if current is None:
        raise ValidationFailed(
            "No valid code.", errors=[FieldError("code", "No code is waiting for this parcel: send one first.")]
        )
    if current.tries >= CODE_MAX_TRIES:
        raise ValidationFailed(
            "Too many wrong codes.", errors=[FieldError("code", "Too many wrong codes: send a new one.")]
        )
    if not constant_time_compare(current.code_hash, _code_hash(task, code.strip())):
        raise DeliveryCodeRejected(
            "The code is wrong.",
            errors=[FieldError("code", "The code is wrong: ask the recipient to read it again.")],
            code_id=current.pk,
        )
    current.used_at = now
    current.save(update_fields=["used_at"])


@transaction.atomic(savepoint=False)
def delivery_code_try_record(*, code_id: int) -> None:
    """Count a wrong code; called by the entry point after the refused delivery rolled back."""
    code = DeliveryCode.objects.select_for_update().filter(pk=code_id).first()
    if code is not None:
        code.tries += 1
        code.save(update_fields=["tries"])


@transaction.atomic(savepoint=False)
def rider_stop_deliver(*, task: DeliveryTask, proof: ProofInput, client_action_id: UUID, actor: Actor) -> TrackingEvent:
    """Deliver a drop-off with the proof its partner asks for (`proof_level`) and exactly the cash
    on delivery. Applied once per `client_action_id`: sent again, it answers the first event and
    stores no second proof. Every missing or wrong piece of proof is reported at once."""
    _require_rider_app(actor)
    task = _locked(task)
    _may_act_on_route(actor, task.route)
    if (earlier := _earlier(client_action_id, task)) is not None:
        return earlier
    if task.kind != TaskKind.DROP_OFF:
        raise Conflict("A pickup is collected by scanning its parcel, not delivered.")
    if task.status == S.DELIVERED:
        raise Conflict(f"{task.tracking_code} is already delivered.")
    if task.status != S.OUT_FOR_DELIVERY:
        raise Conflict(
            f"{task.tracking_code} is {S(task.status).label.lower()}: only a parcel out for delivery can be delivered."
        )
    level = proof_level(task)
    errors = _proof_errors(task, proof, level)
    if errors:
        raise ValidationFailed("The delivery needs more proof.", errors=errors)
    if level == "code" or proof.code.strip():
        _code_check(task, proof.code)
    event = tracking_event_record(
        task=task,
        status=S.DELIVERED,
        actor=actor,
        lat=proof.lat,
        lng=proof.lng,
        source=SOURCE,
        client_action_id=client_action_id,
    )
    record = Proof(
        organization_id=task.organization_id,
        task=task,
        recipient_name=proof.recipient_name.strip(),
        signature_svg=proof.signature_svg.strip(),
        code_verified=level == "code" or bool(proof.code.strip()),
        cod_collected=proof.cod_collected or Decimal("0"),
        at=event.at,
    )
    if proof.photo is not None:
        extension = next(ext for magic, ext in PHOTO_TYPES.items() if proof.photo.startswith(magic))
        record.photo.save(f"{task.public_id}.{extension}", ContentFile(proof.photo), save=False)
    record.save()
    return event


# Fail ----------------------------------------------------------------------------------------


@transaction.atomic(savepoint=False)
def rider_stop_fail(
    *, task: DeliveryTask, reason: str, note: str = "", client_action_id: UUID, actor: Actor
) -> TrackingEvent:
    """Record a failed attempt at a drop-off or a pickup with a reason code (tracking counts the
    attempt). Applied once per `client_action_id`."""
    _require_rider_app(actor)
    task = _locked(task)
    _may_act_on_route(actor, task.route)
    if (earlier := _earlier(client_action_id, task)) is not None:
        return earlier
    if reason not in FailureReason.values:
        raise ValidationFailed("Choose why.", errors=[FieldError("reason", "Choose one of the reasons.")])
    waiting = S.OUT_FOR_DELIVERY if task.kind == TaskKind.DROP_OFF else S.PICKUP_SCHEDULED
    if task.status != waiting:
        raise Conflict(f"{task.tracking_code} is {S(task.status).label.lower()}: there is no attempt to record.")
    text = FailureReason(reason).label + (f": {note.strip()}" if note.strip() else "")
    event = tracking_event_record(
        task=task, status=S.ATTEMPT_FAILED, actor=actor, reason=text, source=SOURCE, client_action_id=client_action_id
    )
    DeliveryTask.objects.filter(pk=task.pk).update(failure_reason=reason)
    return event


# Pickups -------------------------------------------------------------------------------------


def _same_code(scanned: str, expected: str) -> bool:
    """Scanners drop the hyphens and may type lower case; people type them."""
    canonical = tracking_code_normalize(scanned)
    if canonical is not None:
        return canonical == expected

    def plain(code: str) -> str:
        return re.sub(r"[\s-]", "", code).upper()

    return plain(scanned) == plain(expected)


@transaction.atomic(savepoint=False)
def rider_pickup_scan(*, task: DeliveryTask, code: str, client_action_id: UUID, actor: Actor) -> TrackingEvent:
    """Collect a pickup by scanning its parcel (the pickup's tracking code, or its paired
    drop-off's): the pickup is picked up and its paired drop-off goes out for delivery. Applied
    once per `client_action_id`."""
    _require_rider_app(actor)
    task = _locked(task)
    _may_act_on_route(actor, task.route)
    if (earlier := _earlier(client_action_id, task)) is not None:
        return earlier
    if task.kind not in (TaskKind.PICKUP, TaskKind.RETURN_PICKUP):
        raise Conflict("Only a pickup is collected by scanning.")
    drop_off = DeliveryTask.objects.select_for_update().filter(pickup=task).first()
    codes = [task.tracking_code] + ([drop_off.tracking_code] if drop_off else [])
    if not any(_same_code(code, expected) for expected in codes):
        raise ValidationFailed(
            "That is not this pickup's parcel.",
            errors=[FieldError("code", f"{code.strip() or 'Nothing'} is not the parcel of this pickup.")],
        )
    if task.status == S.PICKED_UP:
        raise Conflict(f"{task.tracking_code} is already picked up.")
    event = tracking_event_record(
        task=task, status=S.PICKED_UP, actor=actor, source=SOURCE, client_action_id=client_action_id
    )
    if drop_off is not None and drop_off.status == S.PICKUP_SCHEDULED:
        tracking_event_record(task=drop_off, status=S.PICKED_UP, actor=actor, source=SOURCE)
        tracking_event_record(task=drop_off, status=S.OUT_FOR_DELIVERY, actor=actor, source=SOURCE)
    return event


# Delivery codes ------------------------------------------------------------------------------


@transaction.atomic(savepoint=False)
def rider_delivery_code_send(*, task: DeliveryTask, actor: Actor) -> DeliveryCode:
    """Text the recipient a new six-digit code to give the rider at the door; only its keyed hash
    is kept, earlier codes stop working, and a new one goes at most once a minute. Sending needs a
    connection anyway, so a repeat within the minute is refused rather than deduplicated."""
    _require_rider_app(actor)
    task = _locked(task)
    _may_act_on_route(actor, task.route)
    if task.kind != TaskKind.DROP_OFF or task.status != S.OUT_FOR_DELIVERY:
        raise Conflict("A code is sent for a parcel out for delivery.")
    now = timezone.now()
    codes = DeliveryCode.objects.select_for_update().filter(task=task, purpose=CODE_PURPOSE, used_at__isnull=True)
    if codes.filter(sent_at__gt=now - CODE_RESEND_AFTER).exists():
        raise Conflict("A code was sent less than a minute ago: wait a moment before sending another.")
    codes.filter(expires_at__gt=now).update(expires_at=now)
    code = f"{secrets.randbelow(1_000_000):06d}"
    record = DeliveryCode.objects.create(
        organization_id=task.organization_id,
        task=task,
        purpose=CODE_PURPOSE,
        code_hash=_code_hash(task, code),
        sent_at=now,
        expires_at=now + CODE_VALID_FOR,
    )
    text = f"Allied: your parcel {task.tracking_code} is on its way. Give the rider code {code} when you receive it."
    transaction.on_commit(functools.partial(send_sms, task.contact_phone, text))
    return record


# The day -------------------------------------------------------------------------------------


@transaction.atomic(savepoint=False)
def rider_run_start(*, route: Route, actor: Actor) -> Route:
    """The route's rider sets off: its drop-offs go out for delivery. Starting twice changes
    nothing the second time (stops already out are left as they are)."""
    route = Route.objects.select_related("rider", "hub").get(pk=route.pk)
    _may_act_on_route(actor, route)
    return rider_route_start(route=route, actor=actor)


def _parcels_with_rider(route: Route) -> list[DeliveryTask]:
    """Stops the rider still carries: drop-offs not delivered, pickups collected (a paired
    pickup's parcel is counted once, as its drop-off)."""
    return list(
        route.stops.filter(status__in=STILL_WITH_RIDER)
        .exclude(kind=TaskKind.DROP_OFF, status=S.PICKED_UP)
        .exclude(paired_drop_off__isnull=False)
        .order_by("sequence", "pk")
    )


@dataclass(frozen=True)
class HandBackExpected:
    cash: Decimal
    parcels: int
    codes: list[str]


def hand_back_expected(route: Route) -> HandBackExpected:
    """What the hub expects from the rider: the cash collected at doors, and the parcels not
    delivered."""
    cash = Proof.objects.filter(task__route=route, task__status=S.DELIVERED).aggregate(total=Sum("cod_collected"))
    stops = _parcels_with_rider(route)
    return HandBackExpected(
        cash=cash["total"] or Decimal("0"),
        parcels=sum(stop.parcels for stop in stops),
        codes=[stop.tracking_code for stop in stops],
    )


def decimal_or_none(value: Any, field: str) -> Decimal | None:
    """A money amount as typed on the phone; blank is None."""
    text = str(value if value is not None else "").strip().replace(",", "")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed("Not an amount.", errors=[FieldError(field, "Type an amount, like 1500.")]) from None
    if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationFailed("Not an amount.", errors=[FieldError(field, "Type an amount, like 1500.")])
    return amount


@transaction.atomic(savepoint=False)
def rider_handback(
    *,
    route: Route,
    handed_cash: Decimal,
    handed_parcels: int,
    note: str = "",
    client_action_id: UUID,
    actor: Actor,
) -> HandBack:
    """End of the day at the hub: compare the cash collected (sum of COD proofs) and the parcels
    the rider still carries with what is handed over, flag and keep any difference, and put the
    parcels back at the hub. Once per route; the same `client_action_id` answers the first."""
    route = Route.objects.select_for_update(of=("self",)).select_related("rider", "hub").get(pk=route.pk)
    _may_act_on_route(actor, route)
    existing = HandBack.objects.filter(client_action_id=client_action_id).first()
    if existing is not None:
        if existing.route_id != route.pk:
            raise Conflict("This action id was used for another route.")
        return existing
    if HandBack.objects.filter(route=route).exists():
        raise Conflict("This route was already handed back.")
    errors = []
    if handed_cash < 0:
        errors.append(FieldError("handed_cash", "Cash handed over is not negative."))
    if handed_parcels < 0:
        errors.append(FieldError("handed_parcels", "Parcels handed over are not negative."))
    if len(note) > 500:
        errors.append(FieldError("note", "At most 500 characters."))
    if errors:
        raise ValidationFailed("The hand-back is not complete.", errors=errors)
    expected = hand_back_expected(route)
    for stop in _parcels_with_rider(route):
        tracking_event_record(task=stop, status=S.AT_HUB, actor=actor, place=route.hub.name, source=SOURCE)
    hand_back = HandBack.objects.create(
        route=route,
        expected_cash=expected.cash,
        handed_cash=handed_cash,
        expected_parcels=expected.parcels,
        handed_parcels=handed_parcels,
        expected_codes=expected.codes,
        note=note.strip(),
        flagged=handed_cash != expected.cash or handed_parcels != expected.parcels,
        at=timezone.now(),
        recorded_by=actor.label,
        client_action_id=client_action_id,
    )
    route.status = RouteStatus.DONE
    route.save(update_fields=["status"])
    return hand_back
