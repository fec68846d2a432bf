"""Domain events: one row per business fact, written in the same transaction as the fact, with one
delivery row for each subscription that wants it (the transactional outbox, `core.outbox`).

Because the delivery rows are written by the transaction that writes the event, a subscriber can
neither miss an event (it exists exactly when the fact committed) nor get one twice (one row per
event and subscriber), whatever order concurrent transactions commit in.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from django.db import models

from allied.core import sql
from allied.core.event_types import EventType
from allied.core.models import DomainEvent
from allied.core.sql import Insert, Statement

# Fans the events of `ev` out to every active subscription of their organization (or of all)
# that has a topic for the event's type, its family (`order.*`: the type's text up to the topic's
# `*`) or `*` (`event_types.topic_covers` says the same in Python).
_FAN_OUT = (
    "INSERT INTO core_eventdelivery (event_id, subscription_id, aggregate_key, status, attempts, next_attempt_at,"
    " last_error) SELECT ev.id, s.id, ev.aggregate_type || ':' || ev.aggregate_id, 'pending', 0, ev.occurred_at, ''"
    " FROM {events} ev JOIN core_subscription s ON s.is_active"
    " AND (s.organization_id IS NULL OR s.organization_id = ev.organization_id)"
    " WHERE EXISTS (SELECT 1 FROM core_subscriptiontopic t WHERE t.subscription_id = s.id"
    " AND t.event_type IN (ev.type, substr(ev.type, 1, length(t.event_type) - 1) || '*'))"
)
_EVENT_COLUMNS = "id, organization_id, type, aggregate_type, aggregate_id, occurred_at"


def domain_event_record(
    *, type: EventType, organization: Any, aggregate: models.Model, payload: dict[str, Any]
) -> DomainEvent:
    """Record one event (its payload checked against the catalogue) and its deliveries."""
    type.validate(payload)
    event = DomainEvent.objects.create(
        type=type.name,
        version=type.version,
        organization=organization,
        aggregate_type=aggregate._meta.label_lower,
        aggregate_id=str(aggregate.pk),
        payload=payload,
    )
    _fan_out([event.pk])
    return event


def domain_events_record(events: Sequence[DomainEvent]) -> None:
    """Record several unsaved events (built with `domain_event`) and their deliveries in two inserts."""
    if events:
        _fan_out([event.pk for event in DomainEvent.objects.bulk_create(events)])


def domain_event(
    *, type: EventType, organization_id: int, aggregate_type: str, aggregate_id: Any, payload: dict[str, Any]
) -> DomainEvent:
    """An unsaved event, its payload checked against the catalogue, for `domain_events_record`."""
    type.validate(payload)
    return DomainEvent(
        type=type.name,
        version=type.version,
        organization_id=organization_id,
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        payload=payload,
    )


def _fan_out(event_ids: list[int]) -> None:
    chosen = sql.any_of("id", event_ids, "bigint")
    events = f"(SELECT {_EVENT_COLUMNS} FROM core_domainevent WHERE {chosen.sql})"  # noqa: S608
    sql.run_together([Statement(_FAN_OUT.format(events=events), chosen.params)])


class EventRow(NamedTuple):
    """A domain event as a row, for the lean intake path that writes many tables at once."""

    organization_id: int
    type: str
    version: int
    aggregate_type: str
    aggregate_id: str
    payload: dict[str, Any]
    occurred_at: datetime


def event_row(
    *, type: EventType, organization_id: int, aggregate_type: str, aggregate_id: Any, payload: Any, at: datetime
) -> EventRow:
    """An event for the lean path. Its payload is not checked here (the hot path cannot afford a
    schema check per event); tests/core/test_outbox.py checks what the intake writes."""
    return EventRow(organization_id, type.name, type.version, aggregate_type, str(aggregate_id), payload, at)


_EVENTS_INSERT = Insert(DomainEvent, EventRow._fields)


def domain_events_insert(rows: Sequence[EventRow]) -> list[Statement]:
    """The events and their deliveries as statements for `sql.run_together`: on PostgreSQL the
    deliveries read the events' RETURNING rows; on SQLite, which runs them one by one under its
    write lock, the rows just given the highest ids."""
    events = _EVENTS_INSERT.of(rows)
    if sql.is_postgresql():
        return [
            Statement(f"{events.sql} RETURNING {_EVENT_COLUMNS}", events.params),
            Statement(_FAN_OUT.format(events="{previous}"), []),
        ]
    latest = (
        f"(SELECT {_EVENT_COLUMNS} FROM core_domainevent WHERE id > "  # noqa: S608
        "(SELECT seq FROM sqlite_sequence WHERE name = 'core_domainevent') - %s)"
    )
    return [events, Statement(_FAN_OUT.format(events=latest), [len(rows)])]
