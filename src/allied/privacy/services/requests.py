"""Data-subject requests: a person asks to see, correct or erase their data, or to stop messages.

Identity is proven before anything happens: a one-time code goes to every e-mail address and
phone number the request names, and only the holder of all of them can go on (so nobody reaches
another person's parcels by typing their number). A store platform's request (Shopify's
customers/data_request and customers/redact) arrives vouched for by the platform. Deadlines
count from verification; the privacy officer is reminded before they pass. Every step is audited.
"""

import csv
import io
import json
import secrets
import zipfile
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from allied.accounts.models import Membership, Organization, User
from allied.accounts.policy import PRIVACY_MANAGE, Actor, require
from allied.accounts.roles import Role
from allied.core.audit import audit_record
from allied.core.contact import email_check, phone_normalize
from allied.core.errors import DomainError, FieldError, ValidationFailed
from allied.core.privacy import DataSubject, subject_erase, subject_export, subject_opt_out
from allied.core.sms import SmsMessage, sms_backend
from allied.privacy.models import DataSubjectRequest

Kind = DataSubjectRequest.Kind
Status = DataSubjectRequest.Status

CODE_VALID_FOR = timedelta(minutes=30)
MAX_CODE_ATTEMPTS = 5
REQUESTS_PER_IDENTIFIER_PER_DAY = 5
UNVERIFIED_EXPIRE_AFTER = timedelta(days=7)
REMIND_BEFORE = timedelta(days=7)


class RequestRefused(DomainError):
    code = "privacy_request_refused"
    status = 409


class TooManyRequests(DomainError):
    code = "privacy_request_rate_limited"
    status = 429


def _code_hash(request: DataSubjectRequest, channel: str, code: str) -> str:
    return salted_hmac(
        f"allied.privacy.request_code.{request.public_id}.{channel}", code, algorithm="sha256"
    ).hexdigest()


def _default_country() -> str:
    operator = Organization.objects.filter(kind="operator").only("default_country").first()
    return operator.default_country if operator else "PK"


def subject_of(request: DataSubjectRequest) -> DataSubject:
    """Whom the request is about: the verified e-mail and phone, and the account that has that e-mail;
    a store platform's request reaches only that partner's records."""
    if request.source == DataSubjectRequest.Source.STORE:
        return DataSubject(email=request.email, phone=request.phone, organization_id=request.organization_id)
    user_id = request.user_id
    if user_id is None and request.email:
        user_id = User.objects.filter(email__iexact=request.email).values_list("pk", flat=True).first()
    return DataSubject(email=request.email, user_id=user_id, phone=request.phone)


def _send_codes(request_id: int, codes: dict[str, str]) -> None:
    request = DataSubjectRequest.objects.get(pk=request_id)
    if "email" in codes:
        send_mail(
            subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}Your code for your privacy request",
            message=(
                f"Someone (we hope you) asked Allied E-Commerce Solutions: {request.get_kind_display()}.\n\n"
                f"Your code is {codes['email']}. It is valid for 30 minutes.\n\n"
                "If this was not you, ignore this message: nothing happens without the code."
            ),
            from_email=None,
            recipient_list=[request.email],
        )
    if "phone" in codes:
        sms_backend().send(SmsMessage(to=request.phone, body=f"Allied privacy request code: {codes['phone']}"))


def _issue_codes(request: DataSubjectRequest) -> None:
    codes = {}
    if request.email:
        codes["email"] = f"{secrets.randbelow(10**6):06d}"
        request.email_code_hash = _code_hash(request, "email", codes["email"])
    if request.phone:
        codes["phone"] = f"{secrets.randbelow(10**6):06d}"
        request.phone_code_hash = _code_hash(request, "phone", codes["phone"])
    request.code_sent_at = timezone.now()
    request.code_attempts = 0
    request.save(update_fields=["email_code_hash", "phone_code_hash", "code_sent_at", "code_attempts"])
    transaction.on_commit(partial(_send_codes, request.pk, codes))


@transaction.atomic(savepoint=False)
def privacy_request_submit(
    *, kind: str, email: str, phone: str, details: str, source: str, user: Any = None
) -> DataSubjectRequest:
    """Open a request and send its codes. Every problem with the input is reported at once and
    nothing is stored; more than a few requests a day for one address or number are refused."""
    errors: list[FieldError] = []
    if kind not in Kind.values:
        errors.append(FieldError("kind", f"Choose one of: {', '.join(Kind.labels)}.", "invalid_choice"))
    try:
        email = email_check(email, field="email").lower()
    except ValidationFailed as invalid:
        errors += invalid.errors
    if phone.strip():
        try:
            phone = phone_normalize(phone, default_country=_default_country(), field="phone")
        except ValidationFailed as invalid:
            errors += invalid.errors
    else:
        phone = ""
    if not email and not phone and not errors:
        errors.append(
            FieldError("email", "Give the e-mail address or the phone number your data is under.", "required")
        )
    details = details.strip()
    if kind == Kind.CORRECTION and not details:
        errors.append(FieldError("details", "Say what is wrong and what it should be.", "required"))
    if len(details) > 4000:
        errors.append(FieldError("details", "At most 4,000 characters.", "too_long"))
    if errors:
        raise ValidationFailed("The request has problems: " + "; ".join(e.message for e in errors), errors=errors)
    same_person = Q(email=email) if email else Q(pk__in=[])
    if phone:
        same_person |= Q(phone=phone)
    recent = DataSubjectRequest.objects.filter(same_person, received_at__gte=timezone.now() - timedelta(days=1))
    if recent.count() >= REQUESTS_PER_IDENTIFIER_PER_DAY:
        raise TooManyRequests("Too many requests for this address or number today. Please try again tomorrow.")
    request = DataSubjectRequest.objects.create(
        kind=kind,
        source=source,
        email=email,
        phone=phone,
        details=details,
        user=user if user is not None and getattr(user, "pk", None) else None,
    )
    _issue_codes(request)
    audit_record(
        action="privacy.request_received", actor=None, target=request, changes={"kind": kind, "source": source}
    )
    return request


@transaction.atomic(savepoint=False)
def privacy_request_resend(*, request: DataSubjectRequest) -> DataSubjectRequest:
    """New codes for an unverified request (the old ones stop working), at most once a minute."""
    request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != Status.UNVERIFIED:
        raise RequestRefused("This request is already verified.")
    if request.code_sent_at and timezone.now() - request.code_sent_at < timedelta(minutes=1):
        raise TooManyRequests("A code was sent less than a minute ago; please wait for it.")
    _issue_codes(request)
    return request


def _code_ok(request: DataSubjectRequest, channel: str, stored: str, typed: str) -> bool:
    typed = "".join(typed.split())
    return bool(typed) and constant_time_compare(_code_hash(request, channel, typed), stored)


def privacy_request_verify(*, request: DataSubjectRequest, email_code: str, phone_code: str) -> DataSubjectRequest:
    """Check the codes; once verified the clock starts, and a request Allied can carry out by
    itself (an export, stopping messages) is carried out at once. An entry point with its own
    transaction: a wrong code's attempt is committed before the refusal, so guessing runs out."""
    with transaction.atomic(durable=True):
        request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != Status.UNVERIFIED:
            return request
        if request.code_attempts >= MAX_CODE_ATTEMPTS:
            raise RequestRefused("Too many wrong codes. Ask for new codes.")
        if request.code_sent_at is None or timezone.now() - request.code_sent_at > CODE_VALID_FOR:
            raise RequestRefused("The codes have expired. Ask for new codes.")
        wrong = []
        if request.email_code_hash and not _code_ok(request, "email", request.email_code_hash, email_code):
            wrong.append(FieldError("email_code", "That is not the code we e-mailed.", "wrong_code"))
        if request.phone_code_hash and not _code_ok(request, "phone", request.phone_code_hash, phone_code):
            wrong.append(FieldError("phone_code", "That is not the code we texted.", "wrong_code"))
        if wrong:
            request.code_attempts += 1
            request.save(update_fields=["code_attempts"])
        else:
            now = timezone.now()
            request.status = Status.OPEN
            request.verified_at = now
            request.due_at = now + timedelta(days=settings.ALLIED_PRIVACY_REQUEST_DAYS)
            request.email_code_hash = request.phone_code_hash = ""
            request.save(update_fields=["status", "verified_at", "due_at", "email_code_hash", "phone_code_hash"])
            audit_record(action="privacy.request_verified", actor=None, target=request, changes={"kind": request.kind})
            _carry_out_automatic(request, Actor.system("privacy requests"))
    if wrong:
        raise ValidationFailed("The code is not right.", errors=wrong)
    return request


def _carry_out_automatic(request: DataSubjectRequest, actor: Actor) -> None:
    subject = subject_of(request)
    if request.kind == Kind.ACCESS:
        exported = subject_export(subject=subject, actor=actor)
        _close(request, actor, "Your data is ready to download.", {app: _count(data) for app, data in exported.items()})
    elif request.kind == Kind.OPT_OUT:
        stopped = subject_opt_out(subject=subject, actor=actor)
        _close(request, actor, "No more delivery texts or notification e-mails will be sent to you.", stopped)


def _count(section: dict[str, Any]) -> int:
    return sum(len(value) if isinstance(value, list) else 1 for value in section.values())


def _close(
    request: DataSubjectRequest, actor: Actor, outcome: str, result: dict[str, Any], *, rejected: bool = False
) -> None:
    request.status = Status.REJECTED if rejected else Status.DONE
    request.completed_at = timezone.now()
    request.outcome = outcome
    request.result = result
    request.handled_by = actor.label
    request.save(update_fields=["status", "completed_at", "outcome", "result", "handled_by"])
    audit_record(
        action="privacy.request_rejected" if rejected else "privacy.request_completed",
        actor=actor,
        target=request,
        changes={"kind": request.kind, "result": result},
    )
    if request.email and request.source != DataSubjectRequest.Source.STORE:
        transaction.on_commit(partial(_mail_outcome, request.pk))


def _mail_outcome(request_id: int) -> None:
    request = DataSubjectRequest.objects.get(pk=request_id)
    send_mail(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}Your privacy request: {request.get_status_display()}",
        message=f"{request.get_kind_display()}: {request.outcome}\n\nReference: {request.public_id}",
        from_email=None,
        recipient_list=[request.email],
    )


def _locked_open(request: DataSubjectRequest) -> DataSubjectRequest:
    request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != Status.OPEN:
        raise RequestRefused(f"This request is {request.get_status_display().lower()}, not open.")
    return request


@transaction.atomic(savepoint=False)
def privacy_request_erase(*, request: DataSubjectRequest, actor: Actor) -> DataSubjectRequest:
    """Carry out an erasure: every app anonymises the person's data and keeps its business
    records (order totals, stock ledgers, cash collected) intact. Running it again changes nothing."""
    require(actor, PRIVACY_MANAGE)
    request = _locked_open(request)
    if request.kind != Kind.DELETION:
        raise RequestRefused("Only an erasure request erases data.")
    erased = subject_erase(subject=subject_of(request), actor=actor)
    _close(request, actor, "Your personal data has been erased.", erased)
    return request


@transaction.atomic(savepoint=False)
def privacy_request_close(
    *, request: DataSubjectRequest, actor: Actor, outcome: str, rejected: bool = False
) -> DataSubjectRequest:
    """Close a request by hand (a correction made, or a refusal with its reason), saying what was done."""
    require(actor, PRIVACY_MANAGE)
    outcome = outcome.strip()
    if not outcome:
        raise ValidationFailed(
            "Say what was done.", errors=[FieldError("outcome", "Say what was done, for the person.", "required")]
        )
    request = _locked_open(request)
    _close(request, actor, outcome[:4000], {}, rejected=rejected)
    return request


@transaction.atomic(savepoint=False)
def privacy_request_access_from_store(
    *, organization: Organization, email: str, phone: str, store_reference: str
) -> DataSubjectRequest:
    """A store platform passes on its customer's request to see their data (the platform checked who
    they are): an open request for the privacy officer, who sends that partner's records on.
    The same reference again is the same request."""
    request, created = DataSubjectRequest.objects.get_or_create(
        organization=organization,
        store_reference=store_reference[:200],
        kind=Kind.ACCESS,
        defaults={
            "source": DataSubjectRequest.Source.STORE,
            "email": email.strip().lower()[:254],
            "phone": phone.strip()[:20],
            "status": Status.OPEN,
            "verified_at": timezone.now(),
            "due_at": timezone.now() + timedelta(days=settings.ALLIED_PRIVACY_REQUEST_DAYS),
        },
    )
    if created:
        actor = Actor.system(f"store request {store_reference[:60]}")
        audit_record(
            action="privacy.request_received",
            actor=actor,
            target=request,
            changes={"kind": Kind.ACCESS, "source": "store"},
        )
    return request


def subject_archive(*, subject: DataSubject, actor: Actor) -> bytes:
    """Everything about the person as a ZIP: `data.json` whole, and one CSV per list of records."""
    with transaction.atomic():
        exported = subject_export(subject=subject, actor=actor)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(exported, indent=2, default=str, ensure_ascii=False))
        for app, sections in exported.items():
            for name, value in sections.items():
                rows = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
                if not rows:
                    continue
                columns = list(dict.fromkeys(key for row in rows for key in row))
                text = io.StringIO()
                writer = csv.DictWriter(text, fieldnames=columns)
                writer.writeheader()
                for row in rows:
                    writer.writerow({key: _cell(row.get(key)) for key in columns})
                archive.writestr(f"{app}/{name}.csv", text.getvalue())
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, ensure_ascii=False)
    return "" if value is None else str(value)


def privacy_requests_remind(*, now: Any = None) -> int:
    """Daily: remind the privacy officers of open requests due within a week or overdue (once a day),
    and close unverified requests nobody confirmed within a week. Returns how many were reminded."""
    now = now or timezone.now()
    with transaction.atomic():
        stale = DataSubjectRequest.objects.filter(
            status=Status.UNVERIFIED, received_at__lt=now - UNVERIFIED_EXPIRE_AFTER
        )
        for request in stale.select_for_update():
            _close(request, Actor.system("privacy requests"), "The code was never entered.", {}, rejected=True)
        due = list(
            DataSubjectRequest.objects.select_for_update()
            .filter(status=Status.OPEN, due_at__lte=now + REMIND_BEFORE)
            .filter(Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lte=now - timedelta(hours=23)))
            .order_by("due_at")
        )
        if not due:
            return 0
        DataSubjectRequest.objects.filter(pk__in=[r.pk for r in due]).update(last_reminded_at=now)
        officers = list(
            Membership.objects.filter(organization__kind="operator", role=Role.PRIVACY_OFFICER, user__is_active=True)
            .values_list("user__email", flat=True)
            .distinct()
        )
    if officers:
        lines = [
            f"- {r.get_kind_display()} from {r.received_at:%Y-%m-%d}, due {r.due_at:%Y-%m-%d}"
            f"{' (OVERDUE)' if r.due_at and r.due_at < now else ''}: "
            f"{settings.ALLIED_BASE_URL}/ops/privacy/requests/{r.public_id}/"
            for r in due
        ]
        send_mail(
            subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{len(due)} privacy request(s) due soon",
            message="These data-subject requests need an answer:\n\n" + "\n".join(lines),
            from_email=None,
            recipient_list=officers,
        )
    return len(due)


@transaction.atomic(savepoint=False)
def privacy_store_erase(
    *, organization: Organization, subjects: list[DataSubject], store_reference: str
) -> DataSubjectRequest:
    """A store platform's erasure of its customers: one customer (Shopify's customers/redact), or
    every customer of a shop that left (shop/redact). Each person is erased from that partner's
    records only (never another partner's, nor AES's own relationship with them), and the whole
    is recorded as one erasure request, closed with the counts. The same reference again changes nothing."""
    one = subjects[0] if len(subjects) == 1 else None
    request, created = DataSubjectRequest.objects.get_or_create(
        organization=organization,
        store_reference=store_reference[:200],
        kind=Kind.DELETION,
        defaults={
            "source": DataSubjectRequest.Source.STORE,
            "email": one.email.strip().lower()[:254] if one else "",
            "phone": one.phone.strip()[:20] if one else "",
            "status": Status.OPEN,
            "verified_at": timezone.now(),
            "due_at": timezone.now() + timedelta(days=settings.ALLIED_PRIVACY_REQUEST_DAYS),
        },
    )
    if not created:
        return request
    actor = Actor.system(f"store request {store_reference[:60]}")
    audit_record(
        action="privacy.request_received",
        actor=actor,
        target=request,
        changes={"kind": Kind.DELETION, "source": "store", "people": len(subjects)},
    )
    rows: dict[str, int] = {}
    for subject in subjects:
        scoped = DataSubject(email=subject.email, phone=subject.phone, organization_id=organization.pk)
        for app, count in subject_erase(subject=scoped, actor=actor).items():
            rows[app] = rows.get(app, 0) + count
    outcome = (
        "Erased at the store platform's request."
        if one
        else f"Erased the shop's {len(subjects)} customers at the store platform's request."
    )
    _close(request, actor, outcome, {"people": len(subjects), **rows})
    return request
