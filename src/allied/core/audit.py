"""Audit recorders. Services call these inside their own transaction."""

from dataclasses import dataclass
from typing import Any, Protocol

from django.db import models

from allied.core.context import request_context
from allied.core.models import AuditEntry


class AuditActor(Protocol):
    @property
    def user(self) -> Any: ...

    @property
    def label(self) -> str: ...


@dataclass(frozen=True)
class NamedActor:
    """Someone known only by a label, such as a failed sign-in for an e-mail address."""

    label: str
    user: Any = None


def audit_record(
    *,
    action: str,
    actor: AuditActor | None,
    organization: Any = None,
    target: models.Model | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    context = request_context()
    user = actor.user if actor is not None else None
    return AuditEntry.objects.create(
        action=action,
        actor=user if user is not None and user.pk else None,
        actor_label=actor.label if actor is not None else "system",
        organization=organization,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        object_repr=str(target)[:200] if target is not None else "",
        changes=changes or {},
        request_id=context.request_id,
        ip_prefix=context.ip_prefix,
    )
