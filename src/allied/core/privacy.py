"""The privacy contract every app signs.

Next to its models each app declares which fields hold personal data (a fideslang data
category, a purpose and a retention rule) and registers how to export and erase one data
subject's data. A system check fails while any field that looks personal is undeclared, so
a new model cannot quietly collect personal data. The privacy engine builds on this registry.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core import checks
from django.db import models, transaction

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

LOOKS_PERSONAL = re.compile(
    r"(^|_)(name|email|e_mail|phone|mobile|address|street|line1|line2|city|postcode|zip|"
    r"ip|ip_address|ip_prefix|lat|lng|latitude|longitude|birth|label|user_agent|referrer)($|_)",
    re.I,
)


@dataclass(frozen=True)
class PersonalField:
    category: str
    purpose: str
    retention: str

    def __post_init__(self) -> None:
        if self.category not in DATA_CATEGORIES:
            raise ValueError(f"Unknown fideslang data category {self.category!r}")
        if self.purpose not in PURPOSES:
            raise ValueError(f"Unknown purpose {self.purpose!r}")


@dataclass(frozen=True)
class ModelDeclaration:
    model_label: str
    personal: dict[str, PersonalField]
    not_personal: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DataSubject:
    """Whom a request is about: an account holder, a parcel recipient or a website visitor."""

    email: str
    user_id: int | None = None
    phone: str = ""


Exporter = Callable[[DataSubject], dict[str, Any]]
Eraser = Callable[[DataSubject], int]


@dataclass(frozen=True)
class SubjectHandlers:
    export: Exporter
    erase: Eraser


_declarations: dict[str, ModelDeclaration] = {}
_subject_handlers: dict[str, SubjectHandlers] = {}


def declare_personal_data(
    model: type[models.Model], *, personal: dict[str, PersonalField], not_personal: dict[str, str] | None = None
) -> None:
    """Declare a model's personal fields; `not_personal` names look-alikes with the reason they are not."""
    label = model._meta.label
    field_names = {f.name for f in model._meta.get_fields()}
    unknown = (set(personal) | set(not_personal or {})) - field_names
    if unknown:
        raise ValueError(f"{label} has no fields {sorted(unknown)}")
    _declarations[label] = ModelDeclaration(label, dict(personal), dict(not_personal or {}))


def register_subject_handlers(name: str, *, export: Exporter, erase: Eraser) -> None:
    _subject_handlers[name] = SubjectHandlers(export=export, erase=erase)


def declarations() -> dict[str, ModelDeclaration]:
    return dict(_declarations)


def undeclared_personal_fields() -> list[str]:
    """Fields of Allied's models whose name looks personal and that no declaration covers."""
    missing = []
    for model in apps.get_models():
        if not model.__module__.startswith("allied."):
            continue
        declaration = _declarations.get(model._meta.label)
        covered = set(declaration.personal) | set(declaration.not_personal) if declaration else set()
        for model_field in model._meta.concrete_fields:
            if LOOKS_PERSONAL.search(model_field.name) and model_field.name not in covered:
                missing.append(f"{model._meta.label}.{model_field.name}")
    return missing


@checks.register()
def check_personal_data_declared(**kwargs: Any) -> list[checks.CheckMessage]:
    return [
        checks.Error(
            f"{name} looks like personal data but is not declared",
            hint="Declare it with allied.core.privacy.declare_personal_data in the app's privacy.py.",
            id="allied.E001",
        )
        for name in undeclared_personal_fields()
    ]


@transaction.atomic(savepoint=False)
def subject_export(*, subject: DataSubject, actor: AuditActor) -> dict[str, Any]:
    """Everything Allied holds about one person, gathered from every app; the export is audited."""
    exported = {name: handlers.export(subject) for name, handlers in sorted(_subject_handlers.items())}
    audit_record(action="privacy.exported", actor=actor, changes={"subject_user_id": subject.user_id})
    return exported


@transaction.atomic(savepoint=False)
def subject_erase(*, subject: DataSubject, actor: AuditActor) -> dict[str, int]:
    """Erase one person from every app in one transaction; the erasure is audited."""
    erased = {name: handlers.erase(subject) for name, handlers in sorted(_subject_handlers.items())}
    audit_record(action="privacy.erased", actor=actor, changes={"subject_user_id": subject.user_id, "rows": erased})
    return erased


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
    from allied.core.models import AuditEntry, WorkerHeartbeat

    declare_personal_data(
        AuditEntry,
        personal={
            "actor_label": PersonalField(
                "user.contact.email", "security", "kept as evidence; pseudonymised on erasure"
            ),
            "ip_prefix": PersonalField(
                "user.device.ip_address", "security", "network only (/24 or /48); cleared on erasure"
            ),
        },
    )
    declare_personal_data(WorkerHeartbeat, personal={}, not_personal={"hostname": "a server's name"})
    register_subject_handlers("audit", export=_export_audit, erase=_erase_audit)
