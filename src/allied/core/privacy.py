"""The privacy contract every app signs.

Next to its models each app declares which fields hold personal data (a fideslang data
category, a purpose, a legal basis, the categories of service providers it is shared with, and
a retention rule as data: a period counted from a date field of the row) and registers how to
export and erase one data subject's data. System checks fail while any field that looks
personal, or any JSON field, is undeclared, and while a retention rule names a date the model
does not have, so a new model cannot quietly collect personal data or keep it without a limit.
The privacy engine builds on this registry.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, FieldError
from django.db import models, transaction
from django.db.models import Q

from allied.core.audit import AuditActor, audit_record

# The fideslang data categories Allied uses (https://ethyca.github.io/fideslang/taxonomy/data_categories/).
DATA_CATEGORIES = frozenset(
    {
        "user.name",
        "user.contact.email",
        "user.contact.phone_number",
        "user.contact.address",
        "user.contact.address.street",
        "user.contact.address.city",
        "user.contact.address.postal_code",
        "user.location.precise",
        "user.device.ip_address",
        "user.device.cookie_id",
        "user.account.settings",
        "user.authorization.credentials",
        "user.behavior.browsing_history",
        "user.privacy_preferences",
        "user.workplace",
        "user.job_title",
        "user.unique_id",
        "user.content",
        "user.financial",
    }
)

PURPOSES = frozenset(
    {
        "account_access",  # Authenticated Account Information
        "preferences",  # Personal Preferences
        "security",  # audit trail, abuse prevention
        "order_fulfillment",  # order and delivery details
        "last_mile_delivery",  # pickup and drop-off addresses
        "customer_contact",  # contact forms and service inquiries
        "payments",  # cash on delivery and payouts
        "website_analytics",  # automatically collected technical information
    }
)

# The lawful bases of GDPR article 6(1); AES's notice relies on contract and legitimate interests.
LEGAL_BASES = frozenset(
    {"consent", "contract", "legal_obligation", "vital_interests", "public_task", "legitimate_interests"}
)

# Whom the notice says data may go to: delivery partners, payment processors and hosting providers,
# and the store platforms a partner connected (its own orders go back to its own store).
SERVICE_PROVIDERS = frozenset({"delivery_partners", "payment_processors", "hosting_providers", "store_platforms"})

LOOKS_PERSONAL = re.compile(
    r"(^|_)(name|email|e_mail|phone|mobile|address|street|line1|line2|city|postcode|zip|"
    r"ip|ip_address|ip_prefix|lat|lng|latitude|longitude|birth|label|user_agent|referrer)($|_)",
    re.I,
)


@dataclass(frozen=True)
class Retention:
    """How long a field is kept, as data an engine can act on.

    A row is past retention once `period` has gone by since its `counts_from` date (the first of
    the named date fields that is set), unless it still matches `kept_while` (the named rule
    "while the order is open", say). `allied.E002` checks the fields and the period.
    """

    period: timedelta
    counts_from: tuple[str, ...]
    kept_while: Q | None = None
    kept_while_label: str = ""

    @property
    def description(self) -> str:
        dates = ", else ".join(name.replace("__", "'s ") for name in self.counts_from)
        kept = f"while {self.kept_while_label}, then " if self.kept_while is not None else ""
        return f"{kept}{_duration(self.period)} after {dates}"


def kept_for(period: timedelta, *, counts_from: str | tuple[str, ...]) -> Retention:
    """Kept `period` after the row's date, whatever happens to the row meanwhile."""
    return Retention(period, _dates(counts_from))


def kept_while(label: str, condition: Q, *, then: timedelta, counts_from: str | tuple[str, ...]) -> Retention:
    """Kept while rows match `condition` (`label` says it in words), then `then` after their date."""
    return Retention(then, _dates(counts_from), kept_while=condition, kept_while_label=label)


def _dates(counts_from: str | tuple[str, ...]) -> tuple[str, ...]:
    return (counts_from,) if isinstance(counts_from, str) else tuple(counts_from)


def _duration(period: timedelta) -> str:
    if period.days and period.days % 365 == 0 and not period.seconds:
        years = period.days // 365
        return f"{years} year{'s' if years > 1 else ''}"
    if period.days and not period.seconds:
        return f"{period.days} day{'s' if period.days > 1 else ''}"
    return str(period)


@dataclass(frozen=True)
class PersonalField:
    """One personal field: what it is, why it is kept, on what lawful basis, who else may hold it, how long."""

    category: str
    purpose: str
    retention: Retention
    legal_basis: str
    shared_with: frozenset[str]

    def __post_init__(self) -> None:
        if self.category not in DATA_CATEGORIES:
            raise ValueError(f"Unknown fideslang data category {self.category!r}")
        if self.purpose not in PURPOSES:
            raise ValueError(f"Unknown purpose {self.purpose!r}")
        if self.legal_basis not in LEGAL_BASES:
            raise ValueError(f"Unknown legal basis {self.legal_basis!r}")
        if not self.shared_with or not self.shared_with <= SERVICE_PROVIDERS:
            raise ValueError(f"Shared with must name service-provider categories, not {sorted(self.shared_with)}")


HOSTED = frozenset({"hosting_providers"})  # every row lives with the hosting provider
STAFF_TRAIL_PERIOD = timedelta(days=2 * 365)


def staff_label(retention: Retention) -> PersonalField:
    """The e-mail of the staff member a record names: security evidence, on legitimate interests."""
    return PersonalField(
        "user.contact.email", "security", retention, legal_basis="legitimate_interests", shared_with=HOSTED
    )


def staff_trail(*counts_from: str) -> PersonalField:
    """A staff member named on a warehouse or ledger record: kept two years after the record's date."""
    return staff_label(kept_for(STAFF_TRAIL_PERIOD, counts_from=counts_from))


# What the retention job does to a row past its retention: blank its personal fields and keep the
# row's business facts (an order's totals), or delete the row when nothing in it outlives the person.
REDACT = "redact"
DELETE = "delete"


@dataclass(frozen=True)
class ModelDeclaration:
    model_label: str
    personal: dict[str, PersonalField]
    not_personal: dict[str, str] = field(default_factory=dict)
    on_expiry: str = REDACT

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)


@dataclass(frozen=True)
class DataMapEntry:
    """One line of the data map: a personal field and everything the notice says about it."""

    model_label: str
    field: str
    category: str
    purpose: str
    legal_basis: str
    retention: str
    shared_with: tuple[str, ...]


@dataclass(frozen=True)
class DataSubject:
    """Whom a request is about: an account holder, a parcel recipient or a website visitor."""

    email: str
    user_id: int | None = None
    phone: str = ""
    # Only one partner's records of the person: a store platform asks for its own customers' data,
    # so apps that keep partners' records (orders, deliveries) look only there, and AES's own
    # relationship with the person (an account, a lead, the audit trail) is left out.
    organization_id: int | None = None


Exporter = Callable[[DataSubject], dict[str, Any]]
Eraser = Callable[[DataSubject], int]
OptOut = Callable[[DataSubject], int]


@dataclass(frozen=True)
class SubjectHandlers:
    export: Exporter
    erase: Eraser
    opt_out: OptOut | None = None  # stops messages to the person; apps that send none register none
    partner_records: bool = False  # the app keeps records on a partner's behalf (see DataSubject)


_declarations: dict[str, ModelDeclaration] = {}
_subject_handlers: dict[str, SubjectHandlers] = {}


def declare_personal_data(
    model: type[models.Model],
    *,
    personal: dict[str, PersonalField],
    not_personal: dict[str, str] | None = None,
    on_expiry: str = REDACT,
) -> None:
    """Declare a model's personal fields; `not_personal` names look-alikes with the reason they are not;
    `on_expiry` says whether a row past retention is redacted (the default) or deleted."""
    if on_expiry not in (REDACT, DELETE):
        raise ValueError(f"on_expiry must be {REDACT!r} or {DELETE!r}")
    label = model._meta.label
    field_names = {f.name for f in model._meta.get_fields()}
    unknown = (set(personal) | set(not_personal or {})) - field_names
    if unknown:
        raise ValueError(f"{label} has no fields {sorted(unknown)}")
    _declarations[label] = ModelDeclaration(label, dict(personal), dict(not_personal or {}), on_expiry)


def register_subject_handlers(
    name: str, *, export: Exporter, erase: Eraser, opt_out: OptOut | None = None, partner_records: bool = False
) -> None:
    _subject_handlers[name] = SubjectHandlers(export, erase, opt_out, partner_records)


def _handlers_for(subject: DataSubject) -> list[tuple[str, SubjectHandlers]]:
    return [
        (name, handlers)
        for name, handlers in sorted(_subject_handlers.items())
        if subject.organization_id is None or handlers.partner_records
    ]


def declarations() -> dict[str, ModelDeclaration]:
    return dict(_declarations)


def data_map() -> list[DataMapEntry]:
    """Every declared personal field with its category, purpose, legal basis, retention and recipients."""
    return [
        DataMapEntry(
            label,
            name,
            personal.category,
            personal.purpose,
            personal.legal_basis,
            personal.retention.description,
            tuple(sorted(personal.shared_with)),
        )
        for label, declaration in sorted(_declarations.items())
        for name, personal in declaration.personal.items()
    ]


def _undeclared() -> list[tuple[str, str]]:
    missing = []
    for model in apps.get_models():
        if not model.__module__.startswith("allied."):
            continue
        declaration = _declarations.get(model._meta.label)
        covered = set(declaration.personal) | set(declaration.not_personal) if declaration else set()
        for model_field in model._meta.concrete_fields:
            if model_field.name in covered:
                continue
            # Free-form JSON can carry a name or an address whatever the field is called.
            if isinstance(model_field, models.JSONField):
                missing.append((f"{model._meta.label}.{model_field.name}", "is free-form JSON"))
            elif LOOKS_PERSONAL.search(model_field.name):
                missing.append((f"{model._meta.label}.{model_field.name}", "looks like personal data"))
    return missing


def undeclared_personal_fields() -> list[str]:
    """Fields of Allied's models that look personal or hold JSON, and that no declaration covers."""
    return [name for name, _ in _undeclared()]


@checks.register()
def check_personal_data_declared(**kwargs: Any) -> list[checks.CheckMessage]:
    return [
        checks.Error(
            f"{name} {reason} but is not declared",
            hint="Declare it (or why it holds no personal data) with allied.core.privacy.declare_personal_data"
            " in the app's privacy.py.",
            id="allied.E001",
        )
        for name, reason in _undeclared()
    ]


def retention_problems(declared: Iterable[ModelDeclaration] | None = None) -> list[str]:
    """What is wrong with the retention rules: a date field the model lacks, a period that is not positive."""
    problems = []
    for declaration in sorted(declared if declared is not None else _declarations.values(), key=_label):
        model = declaration.model
        for rule in {personal.retention for personal in declaration.personal.values()}:
            where = f"{declaration.model_label} ({rule.description})"
            if rule.period <= timedelta(0):
                problems.append(f"{where}: the retention period must be positive")
            if not rule.counts_from:
                problems.append(f"{where}: the retention counts from no field")
            for name in rule.counts_from:
                try:
                    date_field = _field_at(model, name)
                except FieldDoesNotExist:
                    problems.append(f"{where}: the retention counts from {name}, which the model does not have")
                    continue
                if not isinstance(date_field, models.DateField):  # DateTimeField is a DateField
                    problems.append(f"{where}: the retention counts from {name}, which is not a date")
            if rule.kept_while is not None:
                try:
                    model._default_manager.filter(rule.kept_while)
                except FieldError as error:
                    problems.append(f"{where}: the condition it is kept while cannot be queried ({error})")
    return problems


def _field_at(model: type[models.Model], path: str) -> Any:
    """The field a lookup path names, following foreign keys (`order__updated_at`)."""
    *relations, name = path.split("__")
    for relation in relations:
        related = model._meta.get_field(relation).related_model
        if related is None:
            raise FieldDoesNotExist(f"{model._meta.label}.{relation} is no relation")
        model = related
    return model._meta.get_field(name)


def _label(declaration: ModelDeclaration) -> str:
    return declaration.model_label


@checks.register()
def check_retention_rules(**kwargs: Any) -> list[checks.CheckMessage]:
    return [
        checks.Error(problem, hint="Fix the Retention in the app's privacy.py.", id="allied.E002")
        for problem in retention_problems()
    ]


@transaction.atomic(savepoint=False)
def subject_export(*, subject: DataSubject, actor: AuditActor) -> dict[str, Any]:
    """Everything Allied holds about one person, gathered from every app; the export is audited."""
    exported = {name: handlers.export(subject) for name, handlers in _handlers_for(subject)}
    audit_record(action="privacy.exported", actor=actor, changes={"subject_user_id": subject.user_id})
    return exported


@transaction.atomic(savepoint=False)
def subject_erase(*, subject: DataSubject, actor: AuditActor) -> dict[str, int]:
    """Erase one person from every app in one transaction; the erasure is audited."""
    erased = {name: handlers.erase(subject) for name, handlers in _handlers_for(subject)}
    audit_record(action="privacy.erased", actor=actor, changes={"subject_user_id": subject.user_id, "rows": erased})
    return erased


@transaction.atomic(savepoint=False)
def subject_opt_out(*, subject: DataSubject, actor: AuditActor) -> dict[str, int]:
    """Stop every message Allied sends the person (delivery texts, notification e-mails); audited."""
    stopped = {
        name: handlers.opt_out(subject) for name, handlers in _handlers_for(subject) if handlers.opt_out is not None
    }
    audit_record(action="privacy.opted_out", actor=actor, changes={"subject_user_id": subject.user_id, "rows": stopped})
    return stopped


def _export_audit(subject: DataSubject) -> dict[str, Any]:
    from allied.core.models import AuditEntry

    if subject.user_id is None:
        return {"audit_entries": []}
    entries = AuditEntry.objects.filter(actor_id=subject.user_id).order_by("at")
    return {
        "audit_entries": [
            {"at": e.at.isoformat(), "action": e.action, "object": e.object_repr, "network": e.ip_prefix}
            for e in entries
        ]
    }


def _erase_audit(subject: DataSubject) -> int:
    """Audit rows stay (security evidence) but lose what identifies the person."""
    from allied.core.models import AuditEntry

    if subject.user_id is None:
        return 0
    return AuditEntry.objects.filter(actor_id=subject.user_id).update(
        actor_label=f"erased user #{subject.user_id}", ip_prefix=""
    )


def register_core_models() -> None:
    from allied.core.models import AuditEntry, DomainEvent, PersonalDataShared, Subscription, WorkerHeartbeat

    # Kept as evidence, pseudonymised on erasure; the IP address only as its /24 or /48 network.
    evidence = kept_for(STAFF_TRAIL_PERIOD, counts_from="at")
    declare_personal_data(
        AuditEntry,
        personal={
            "actor_label": staff_label(evidence),
            # Technical data: the network a request came from, cut off after ALLIED_TECHNICAL_DATA_DAYS.
            "ip_prefix": PersonalField(
                "user.device.ip_address",
                "security",
                kept_for(timedelta(days=settings.ALLIED_TECHNICAL_DATA_DAYS), counts_from="at"),
                legal_basis="legitimate_interests",
                shared_with=HOSTED,
            ),
            # What the action was about: a membership or an invitation names its person.
            "object_repr": PersonalField(
                "user.name", "security", evidence, legal_basis="legitimate_interests", shared_with=HOSTED
            ),
            # Old and new values of what changed, a removed member's e-mail among them.
            "changes": PersonalField(
                "user.contact.email", "security", evidence, legal_basis="legitimate_interests", shared_with=HOSTED
            ),
        },
    )
    # Order and product events carry references and tracking codes; an event for a partner's
    # endpoint may carry a parcel's recipient, so payloads are pruned (core.outbox.outbox_prune).
    declare_personal_data(
        DomainEvent,
        personal={
            "payload": PersonalField(
                "user.content",
                "order_fulfillment",
                kept_for(timedelta(days=settings.ALLIED_OUTBOX_RETENTION_DAYS), counts_from="occurred_at"),
                legal_basis="contract",
                shared_with=HOSTED,
            )
        },
    )
    declare_personal_data(
        PersonalDataShared,
        personal={},
        not_personal={
            "recipient": "a company's host name",
            "data_categories": "the names of data categories, not data",
            "reference": "an order's number",
        },
    )
    declare_personal_data(WorkerHeartbeat, personal={}, not_personal={"hostname": "a server's name"})
    declare_personal_data(Subscription, personal={}, not_personal={"name": "a consumer's or an endpoint's name"})
    register_subject_handlers("audit", export=_export_audit, erase=_erase_audit)


class SharingRefused(Exception):
    """Personal data was about to go to a recipient outside the permitted service-provider categories."""


def sharing_record(
    *,
    organization_id: int | None,
    recipient: str,
    recipient_category: str,
    data_categories: Iterable[str],
    purpose: str,
    reference: str = "",
) -> None:
    """Record one transmission of personal data to a third party, before it is sent; a recipient
    outside the permitted categories is refused, so the transmission cannot happen."""
    from allied.core.models import PersonalDataShared

    categories = sorted(set(data_categories))
    if recipient_category not in SERVICE_PROVIDERS:
        raise SharingRefused(f"Personal data may not go to {recipient} ({recipient_category}).")
    unknown = [category for category in categories if category not in DATA_CATEGORIES]
    if unknown or purpose not in PURPOSES:
        raise ValueError(f"Undeclared data categories {unknown} or purpose {purpose!r}")
    PersonalDataShared.objects.create(
        organization_id=organization_id,
        recipient=recipient[:200],
        recipient_category=recipient_category,
        data_categories=categories,
        purpose=purpose,
        reference=reference[:200],
    )
