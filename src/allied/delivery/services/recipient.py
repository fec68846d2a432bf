"""What the person a parcel goes to may change from the tracking page, once they have typed the
one-time code sent to the phone on record: move the stop to another day, add instructions for the
rider, or correct the address. Each change checks everything before it writes anything, under the
stop's lock, and only while the stop is still on its way (not delivered, returned or cancelled).

Codes are six digits from `secrets`, kept only as an HMAC keyed with the site's secret, valid for
15 minutes and 5 tries; a new code retires the ones before it, and a stop gets a few per hour."""

import enum
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from allied.accounts.policy import Actor
from allied.core.address import Address, CoordinatesSource
from allied.core.audit import audit_record
from allied.core.contact import phone_normalize
from allied.core.errors import Conflict, FieldError, ValidationFailed
from allied.core.tracking import TrackingStatus
from allied.delivery.models import DeliveryCode, DeliveryTask, RecipientOptOut
from allied.delivery.notifications import recipient_code_message_send
from allied.delivery.services.tasks import hub_serves, service_day
from allied.delivery.services.tracking import NEXT, tracking_event_record

S = TrackingStatus
PURPOSE = "recipient"
CODE_VALID_FOR = timedelta(minutes=15)
CODE_TRIES = 5
RESCHEDULE_DAYS = 7
# Past these nothing the recipient says changes the journey.
CLOSED = frozenset({S.DELIVERED, S.RETURNED, S.CANCELLED, S.RETURN_TO_ORIGIN})
RECIPIENT = Actor.system("Recipient (tracking page)")
RECIPIENT_NOTE = "\nRecipient: "


class CodeCheck(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"  # none sent, used, superseded or past its 15 minutes
    EXHAUSTED = "exhausted"


@dataclass(frozen=True)
class CodeResult:
    outcome: CodeCheck
    code: DeliveryCode | None = None
    tries_left: int = 0


def recipient_may_change(task: DeliveryTask) -> bool:
    return task.status not in CLOSED


def recipient_may_reschedule(task: DeliveryTask) -> bool:
    """Whether the journey allows `rescheduled` from where the stop is (tracking.NEXT says)."""
    return recipient_may_change(task) and (task.status == S.RESCHEDULED or S.RESCHEDULED in NEXT.get(task.status, ()))


def reschedule_days(task: DeliveryTask, now: datetime | None = None) -> list[date]:
    """The days a recipient may choose: from the hub's next service day on, within a week of
    today, skipping the days hubs are closed and the day the stop is planned for already."""
    today = timezone.localdate(now)
    first = max(service_day(task.hub, now), today + timedelta(days=1))
    closed = set(settings.ALLIED_HUB_CLOSED_WEEKDAYS)
    days = (first + timedelta(days=n) for n in range((today + timedelta(days=RESCHEDULE_DAYS) - first).days + 1))
    return [day for day in days if day.isoweekday() not in closed and day != task.date]


def _code_hash(task: DeliveryTask, code: str) -> str:
    return salted_hmac(f"allied.delivery.recipient_code.{task.pk}", code, algorithm="sha256").hexdigest()


def _locked(task: DeliveryTask) -> DeliveryTask:
    """The stop under its row lock, as it is now (lock, refresh, re-check)."""
    return DeliveryTask.objects.select_for_update(of=("self",)).select_related("hub").get(pk=task.pk)


@transaction.atomic(savepoint=False)
def recipient_code_send(*, task: DeliveryTask, now: datetime | None = None) -> DeliveryCode:
    """Store a fresh code's hash and text the code to the phone on record after the commit. Earlier
    codes stop working; a stop gets `ALLIED_RECIPIENT_CODES_PER_STOP_HOUR` codes an hour."""
    now = now or timezone.now()
    task = _locked(task)
    if not recipient_may_change(task):
        raise Conflict("This delivery can no longer be changed.")
    recent = DeliveryCode.objects.filter(task=task, purpose=PURPOSE, sent_at__gte=now - timedelta(hours=1)).count()
    if recent >= settings.ALLIED_RECIPIENT_CODES_PER_STOP_HOUR:
        raise Conflict("We have sent several codes for this parcel in the last hour. Please try again later.")
    DeliveryCode.objects.filter(task=task, purpose=PURPOSE, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    code = f"{secrets.randbelow(10**6):06d}"
    stored = DeliveryCode.objects.create(
        organization_id=task.organization_id,
        task=task,
        purpose=PURPOSE,
        code_hash=_code_hash(task, code),
        sent_at=now,
        expires_at=now + CODE_VALID_FOR,
    )
    transaction.on_commit(partial(recipient_code_message_send, task_id=task.pk, code=code))
    return stored


@transaction.atomic(savepoint=False)
def recipient_code_check(*, task: DeliveryTask, code: str, now: datetime | None = None) -> CodeResult:
    """Check a typed code against the stop's newest one; every check of a live code uses a try,
    and a right code is used up. Returns the outcome rather than raising, so the try is stored."""
    now = now or timezone.now()
    stored = (
        DeliveryCode.objects.select_for_update(of=("self",))
        .filter(task=task, purpose=PURPOSE)
        .order_by("-sent_at", "-id")
        .first()
    )
    if stored is None or stored.used_at is not None or stored.expires_at <= now:
        return CodeResult(CodeCheck.EXPIRED)
    if stored.tries >= CODE_TRIES:
        return CodeResult(CodeCheck.EXHAUSTED)
    stored.tries += 1
    typed = "".join(code.split())
    if constant_time_compare(_code_hash(task, typed), stored.code_hash):
        stored.used_at = now
        stored.save(update_fields=["tries", "used_at"])
        return CodeResult(CodeCheck.OK, stored)
    stored.save(update_fields=["tries"])
    left = CODE_TRIES - stored.tries
    return CodeResult(CodeCheck.WRONG if left else CodeCheck.EXHAUSTED, tries_left=left)


def _open(task: DeliveryTask) -> None:
    if not recipient_may_change(task):
        raise Conflict("This delivery can no longer be changed.")


def _recorded(task: DeliveryTask, what: str, fields: list[str]) -> None:
    audit_record(
        action=f"delivery.recipient_{what}",
        actor=RECIPIENT,
        organization=task.organization,
        target=task,
        changes={"fields": fields},  # which, not what: the values are the recipient's
    )


@transaction.atomic(savepoint=False)
def recipient_reschedule(*, task: DeliveryTask, day: date, now: datetime | None = None) -> DeliveryTask:
    """Move the stop to a day the recipient chose: off its route (the next plan places it), and
    `rescheduled` on its journey."""
    task = _locked(task)
    _open(task)
    if not recipient_may_reschedule(task):
        raise Conflict("This delivery cannot be moved to another day right now; it may already be on its way.")
    if day not in reschedule_days(task, now):
        raise ValidationFailed(
            "Choose one of the days offered.", errors=[FieldError("day", "Choose one of the days offered.")]
        )
    previous = task.date
    task.date = day
    task.route = None
    task.sequence = None
    task.planned_arrival = None
    task.unplanned_reason = ""
    task.save(update_fields=["date", "route", "sequence", "planned_arrival", "unplanned_reason", "updated_at"])
    tracking_event_record(
        task=task,
        status=S.RESCHEDULED,
        actor=RECIPIENT,
        reason=f"Moved by the recipient from {previous:%d %b} to {day:%d %b}.",
        source="recipient",
    )
    _recorded(task, "rescheduled", ["date"])
    return task


@transaction.atomic(savepoint=False)
def recipient_instructions_add(*, task: DeliveryTask, text: str) -> DeliveryTask:
    """Give the rider the recipient's instructions, after the sender's (replacing the recipient's
    earlier ones)."""
    text = " ".join(text.split())
    if not text:
        raise ValidationFailed("Write the instructions.", errors=[FieldError("instructions", "Write something.")])
    task = _locked(task)
    _open(task)
    sender_part = task.instructions.split(RECIPIENT_NOTE, 1)[0]
    combined = f"{sender_part}{RECIPIENT_NOTE}{text}" if sender_part else f"Recipient: {text}"
    room = 500 - (len(combined) - len(text))
    if len(text) > room:
        raise ValidationFailed("Too long.", errors=[FieldError("instructions", f"At most {room} characters, please.")])
    task.instructions = combined
    task.save(update_fields=["instructions", "updated_at"])
    _recorded(task, "instructions", ["instructions"])
    return task


@transaction.atomic(savepoint=False)
def recipient_address_correct(*, task: DeliveryTask, line1: str, area: str, postcode: str) -> DeliveryTask:
    """Store the corrected street, area and postcode (the city stays: another city is another hub);
    the coordinates are cleared, so dispatch places a pin before the stop is planned again."""
    line1, area, postcode = (" ".join(value.split()) for value in (line1, area, postcode))
    errors = []
    if not line1:
        errors.append(FieldError("line1", "The house, street and building, please."))
    elif len(line1) > 200:
        errors.append(FieldError("line1", "At most 200 characters."))
    if len(area) > 100:
        errors.append(FieldError("area", "At most 100 characters."))
    if len(postcode) > 20 or (postcode and not postcode.replace(" ", "").replace("-", "").isalnum()):
        errors.append(FieldError("postcode", "Letters and digits only, at most 20."))
    task = _locked(task)
    _open(task)
    if not errors and task.hub.service_areas:
        corrected = Address(line1=line1, city=task.address_city, area=area, postcode=postcode)
        if not hub_serves(task.hub, corrected):
            errors.append(FieldError("area", "We do not deliver to that area from this hub; contact the sender."))
    if errors:
        raise ValidationFailed("Nothing was changed: check the address.", errors=errors)
    task.address_line1, task.address_line2, task.address_area, task.address_postcode = line1, "", area, postcode
    task.address_lat = task.address_lng = None
    task.address_coordinates_source = CoordinatesSource.NONE
    task.unplanned_reason = "Address corrected by the recipient: place a pin."
    task.save(
        update_fields=[
            "address_line1",
            "address_line2",
            "address_area",
            "address_postcode",
            "address_lat",
            "address_lng",
            "address_coordinates_source",
            "unplanned_reason",
            "updated_at",
        ]
    )
    _recorded(task, "address", ["address_line1", "address_line2", "address_area", "address_postcode"])
    return task


@transaction.atomic(savepoint=False)
def recipient_opt_out(*, phone: str, source: str, default_country: str = "PK") -> RecipientOptOut:
    """No more delivery messages to this number (a link in a message, or a STOP reply), once."""
    normalized = phone_normalize(phone, default_country=default_country, field="phone")
    opt_out, _ = RecipientOptOut.objects.get_or_create(phone=normalized, defaults={"source": source})
    return opt_out


def recipient_sms_reply(*, phone: str, text: str) -> RecipientOptOut | None:
    """An SMS a recipient sent back (a gateway's inbound webhook calls this): STOP opts out."""
    if text.strip().upper() in {"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL"}:
        return recipient_opt_out(phone=phone, source="keyword")
    return None
