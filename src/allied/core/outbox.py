"""The relay of the transactional outbox: it hands each delivery row (`core.events` writes them
with their events) to its subscriber.

* An internal consumer runs inside the transaction that marks its delivery delivered, so its
  effects and the mark commit together: it applies each event exactly once.
* A webhook endpoint gets the event signed with Standard Webhooks (`webhook-id` is the event's id,
  so the receiver can drop a repeat); the delivery is leased while the request is in flight, so
  a relay that dies mid-request leaves it to be tried again (at least once, as webhooks are).
* Per subscriber, the events of one aggregate (an order, a stock row) are delivered in the order
  they were recorded: a delivery waits while an earlier one of its aggregate is pending. Events of
  one aggregate are recorded under that aggregate's row lock, so their ids follow commit order.
* A failure is retried with capped exponential backoff; a 4xx answer other than 408 and 429 is
  final; `Retry-After` is honoured; after the last attempt the delivery is failed, visible in the
  admin with every attempt, and can be replayed.

Any number of relays may run (one per `allied worker`): deliveries are claimed with SKIP LOCKED.
"""

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from allied.core.event_types import CATALOGUE, envelope
from allied.core.locks import deliveries_due_for_update
from allied.core.models import (
    DeliveryAttempt,
    DeliveryStatus,
    DomainEvent,
    EventDelivery,
    Subscription,
    SubscriptionTopic,
)
from allied.core.vault import vault_decrypt, vault_encrypt

logger = logging.getLogger(__name__)

WEBHOOK_SECRET_PURPOSE = "outbox.webhook"  # noqa: S105 (a vault purpose, not a secret)
LEASE = timedelta(seconds=60)  # longer than a webhook request may take


@dataclass(frozen=True)
class Consumer:
    name: str
    event_types: tuple[str, ...]
    handle: Callable[[DomainEvent], None]


_consumers: dict[str, Consumer] = {}


def consumer(name: str, *, event_types: Iterable[str]) -> Callable[[Callable[[DomainEvent], None]], Any]:
    """Register `handle(event)` as the internal consumer `name` of these event types (`*`: all).
    It runs inside the delivery's transaction: it must not commit, and it sees each event once."""
    wanted = tuple(event_types)
    unknown = [name for name in wanted if name != "*" and name not in CATALOGUE]
    if unknown:
        raise ValueError(f"Not in the event catalogue: {', '.join(unknown)}")

    def register(handle: Callable[[DomainEvent], None]) -> Callable[[DomainEvent], None]:
        _consumers[name] = Consumer(name, wanted, handle)
        return handle

    return register


@transaction.atomic(savepoint=False)
def subscriptions_sync() -> int:
    """Give every registered consumer its subscription and topics (run by `allied migrate`);
    events recorded from then on are owed to it. Returns how many subscriptions were created."""
    created = 0
    for registered in _consumers.values():
        subscription, is_new = Subscription.objects.get_or_create(
            name=registered.name, defaults={"kind": Subscription.Kind.CONSUMER}
        )
        created += is_new
        subscription.topics.exclude(event_type__in=registered.event_types).delete()
        SubscriptionTopic.objects.bulk_create(
            [SubscriptionTopic(subscription=subscription, event_type=name) for name in registered.event_types],
            ignore_conflicts=True,
        )
    return created


@transaction.atomic(savepoint=False)
def webhook_subscription_create(
    *, name: str, url: str, secret: str, event_types: Iterable[str], organization: Any
) -> Subscription:
    """An HTTP endpoint of a partner's that receives these event types of its organization."""
    wanted = list(event_types)
    unknown = [event for event in wanted if event != "*" and event not in CATALOGUE]
    if unknown:
        raise ValueError(f"Not in the event catalogue: {', '.join(unknown)}")
    subscription = Subscription.objects.create(
        name=name,
        kind=Subscription.Kind.WEBHOOK,
        organization=organization,
        url=url,
        secret=vault_encrypt(secret, purpose=WEBHOOK_SECRET_PURPOSE),
    )
    SubscriptionTopic.objects.bulk_create(
        [SubscriptionTopic(subscription=subscription, event_type=event) for event in wanted]
    )
    return subscription


def retry_delay(attempt: int) -> timedelta:
    """Capped exponential backoff: base, 2 × base, 4 × base, ... up to the cap."""
    base, cap = settings.ALLIED_OUTBOX_RETRY_BASE_SECONDS, settings.ALLIED_OUTBOX_RETRY_MAX_SECONDS
    return timedelta(seconds=min(cap, base * 2 ** (attempt - 1)))


class DeliveryFailed(Exception):
    """An attempt that did not deliver; `final` when trying again cannot help (a 4xx answer)."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        final: bool = False,
        retry_after: timedelta | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.final = final
        self.retry_after = retry_after


def _retry_after(value: str | None, now: datetime) -> timedelta | None:
    """`Retry-After` in seconds or as an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return timedelta(seconds=int(value.strip()))
    try:
        return max(timedelta(0), parsedate_to_datetime(value) - now)
    except (TypeError, ValueError):
        return None


def _post(subscription: Subscription, body: dict[str, Any], event_id: str, now: datetime) -> int:
    signer = Webhook(vault_decrypt(subscription.secret, purpose=WEBHOOK_SECRET_PURPOSE))
    payload = json.dumps(body, separators=(",", ":"), default=str)
    headers = {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signer.sign(event_id, now, payload),
        "user-agent": "Allied-Webhooks/1",
    }
    try:
        response = httpx.post(
            subscription.url,
            content=payload,
            headers=headers,
            timeout=settings.ALLIED_OUTBOX_HTTP_TIMEOUT_SECONDS,
            follow_redirects=False,
        )
    except httpx.HTTPError as error:
        raise DeliveryFailed(f"{type(error).__name__}: {error}") from error
    if 200 <= response.status_code < 300:
        return response.status_code
    retryable = response.status_code in (408, 429) or response.status_code >= 500
    raise DeliveryFailed(
        f"The endpoint answered {response.status_code}.",
        status_code=response.status_code,
        final=not retryable,
        retry_after=_retry_after(response.headers.get("retry-after"), now),
    )


def _envelope(event: DomainEvent) -> dict[str, Any]:
    return envelope(
        event_id=event.pk,
        event_type=CATALOGUE[event.type],
        organization_id=event.organization_id,
        aggregate=f"{event.aggregate_type}:{event.aggregate_id}",
        occurred_at=event.occurred_at,
        data=event.payload,
    )


def _record_failure(delivery: EventDelivery, failure: DeliveryFailed, *, now: datetime, started: float) -> None:
    delivery.last_error = str(failure)[:2000]
    if failure.final or delivery.attempts >= settings.ALLIED_OUTBOX_MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
    else:
        delay = retry_delay(delivery.attempts)
        if failure.retry_after is not None:
            delay = min(max(delay, failure.retry_after), timedelta(seconds=settings.ALLIED_OUTBOX_RETRY_MAX_SECONDS))
        delivery.next_attempt_at = now + delay
    delivery.save(update_fields=["status", "last_error", "next_attempt_at", "attempts"])
    DeliveryAttempt.objects.create(
        delivery=delivery,
        at=now,
        duration_ms=int((time.monotonic() - started) * 1000),
        status_code=failure.status_code,
        error=str(failure)[:2000],
    )
    logger.warning(
        "outbox delivery %s (event %s to %s) failed on attempt %d: %s",
        delivery.pk,
        delivery.event_id,
        delivery.subscription.name,
        delivery.attempts,
        failure,
    )


def _record_success(delivery: EventDelivery, *, now: datetime, started: float, status_code: int | None) -> None:
    delivery.status = DeliveryStatus.DELIVERED
    delivery.delivered_at = now
    delivery.last_error = ""
    delivery.save(update_fields=["status", "delivered_at", "last_error", "attempts"])
    DeliveryAttempt.objects.create(
        delivery=delivery, at=now, duration_ms=int((time.monotonic() - started) * 1000), status_code=status_code
    )


def _deliver_to_consumer(delivery: EventDelivery, now: datetime) -> None:
    """Inside the claim's transaction: the consumer's writes and the mark commit together."""
    started = time.monotonic()
    delivery.attempts += 1
    registered = _consumers.get(delivery.subscription.name)
    try:
        if registered is None:
            raise DeliveryFailed(f"No consumer named {delivery.subscription.name} is registered in this process.")
        try:
            with transaction.atomic():  # a savepoint: a failing consumer leaves nothing behind
                registered.handle(delivery.event)
        except DeliveryFailed:
            raise
        except Exception as error:  # a consumer's bug must not stop the relay
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from error
    except DeliveryFailed as failure:
        _record_failure(delivery, failure, now=now, started=started)
        return
    _record_success(delivery, now=now, started=started, status_code=None)


def _deliver_to_endpoint(delivery: EventDelivery, now: datetime) -> None:
    """For a leased delivery: send outside any transaction, then record, so a slow endpoint
    holds no lock."""
    started = time.monotonic()
    try:
        status_code = _post(delivery.subscription, _envelope(delivery.event), f"evt_{delivery.event_id}", now)
    except DeliveryFailed as failure:
        with transaction.atomic(durable=True):
            _record_failure(delivery, failure, now=timezone.now(), started=started)
        return
    with transaction.atomic(durable=True):
        _record_success(delivery, now=timezone.now(), started=started, status_code=status_code)


def outbox_relay(*, limit: int = 100) -> int:
    """Work through up to `limit` due deliveries, each in a transaction of its own; returns how
    many were attempted. Safe to run in any number of processes at once."""
    attempted = 0
    while attempted < limit:
        now = timezone.now()
        with transaction.atomic(durable=True):
            delivery = deliveries_due_for_update(now=now)
            if delivery is None:
                break
            attempted += 1
            if delivery.subscription.kind == Subscription.Kind.CONSUMER:
                _deliver_to_consumer(delivery, now)
                continue
            # Lease it under the claim's lock, so no other relay takes it while it is in flight.
            delivery.attempts += 1
            delivery.next_attempt_at = now + LEASE
            delivery.save(update_fields=["attempts", "next_attempt_at"])
        _deliver_to_endpoint(delivery, now)
    return attempted


@transaction.atomic(savepoint=False)
def delivery_replay(*, delivery: EventDelivery) -> EventDelivery:
    """Try a failed delivery again from the start (attempts are kept in its log)."""
    delivery = EventDelivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status != DeliveryStatus.FAILED:
        return delivery
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    return delivery


@transaction.atomic(savepoint=False)
def outbox_prune(*, now: datetime | None = None) -> dict[str, int]:
    """Forget settled deliveries and their events after the retention period; an event with a
    delivery still pending is kept whatever its age."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.ALLIED_OUTBOX_RETENTION_DAYS)
    deliveries, _ = (
        EventDelivery.objects.filter(event__occurred_at__lt=cutoff).exclude(status=DeliveryStatus.PENDING).delete()
    )
    events, _ = DomainEvent.objects.filter(occurred_at__lt=cutoff, deliveries__isnull=True).delete()
    return {"events": events, "deliveries": deliveries}
