"""Domain events: one row per business fact, written in the same transaction as the fact."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from django.db import models

from allied.core.models import DomainEvent
from allied.core.sql import Insert, Statement


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


class EventRow(NamedTuple):
    """A domain event as a row, for the lean intake path that writes many tables at once."""

    organization_id: int
    type: str
    aggregate_type: str
    aggregate_id: str
    payload: dict[str, Any]
    occurred_at: datetime


_EVENTS_INSERT = Insert(DomainEvent, EventRow._fields)


def domain_events_insert(rows: Sequence[EventRow]) -> Statement:
    return _EVENTS_INSERT.of(rows)
