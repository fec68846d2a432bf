"""Domain events: one row per business fact, written in the same transaction as the fact."""

from typing import Any

from django.db import models

from allied.core.models import DomainEvent


def domain_event_record(
    *, type: str, organization: Any, aggregate: models.Model, payload: dict[str, Any]
) -> DomainEvent:
    return DomainEvent.objects.create(
        type=type,
        organization=organization,
        aggregate_type=aggregate._meta.label_lower,
        aggregate_id=str(aggregate.pk),
        payload=payload,
    )
