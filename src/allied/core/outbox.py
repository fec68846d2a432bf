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
* A failure is retried with backoff: an internal consumer's with capped exponential backoff, a
  partner's endpoint on `WEBHOOK_RETRY_SCHEDULE` (over a day); a 4xx answer other than 408 and 429
  is final; `Retry-After` is honoured; after the last attempt the delivery is failed, visible with
  every attempt, and can be replayed.
* An endpoint whose deliveries keep failing is disabled (`DISABLE_AFTER`) and a `webhook.disabled`
  event is recorded, for integrations to tell the partner.

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

from allied.core.audit import audit_record
from allied.core.event_types import CATALOGUE, FAMILIES, WEBHOOK_DISABLED, WEBHOOK_TEST, envelope
from allied.core.events import domain_event_record
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
# A partner's endpoint is tried at once, then after each of these delays (27.6 hours in all, so an
# endpoint down for a day still gets its events), then the delivery is failed.
WEBHOOK_RETRY_SCHEDULE = tuple(
    timedelta(seconds=seconds) for seconds in (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
)
# An endpoint is disabled when a delivery to it fails for good and it has accepted none for this long.
DISABLE_AFTER = timedelta(hours=24)
SECRET_ROTATION_GRACE = timedelta(hours=24)  # the old secret signs too, for receivers still holding it


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
    _refuse_unknown(wanted)

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


def _refuse_unknown(topics: Iterable[str]) -> None:
    """A topic is `*`, a type of the catalogue, or one of its families as `<family>.*`."""
    families = {f"{family}.*" for family in FAMILIES}
    unknown = [topic for topic in topics if topic != "*" and topic not in CATALOGUE and topic not in families]
    if unknown:
        raise ValueError(f"Not in the event catalogue: {', '.join(unknown)}")


@transaction.atomic(savepoint=False)
def webhook_subscription_create(
    *, name: str, url: str, secret: str, event_types: Iterable[str], organization: Any, description: str = ""
) -> Subscription:
    """An HTTP endpoint of a partner's that receives these event types of its organization
    (a type, a family `<family>.*`, or `*`), its events signed with `secret`."""
    wanted = list(event_types)
    _refuse_unknown(wanted)
    subscription = Subscription.objects.create(
        name=name,
        kind=Subscription.Kind.WEBHOOK,
        organization=organization,
        description=description,
        url=url,
        secret=vault_encrypt(secret, purpose=WEBHOOK_SECRET_PURPOSE),
        secret_hint=secret[-4:],
    )
    SubscriptionTopic.objects.bulk_create(
        [SubscriptionTopic(subscription=subscription, event_type=event) for event in wanted]
    )
    return subscription


@transaction.atomic(savepoint=False)
def webhook_subscription_topics_set(*, subscription: Subscription, event_types: Iterable[str]) -> Subscription:
    """From the next event on, the endpoint receives these event types (deliveries owed stay owed)."""
    wanted = list(dict.fromkeys(event_types))
    _refuse_unknown(wanted)
    subscription.topics.exclude(event_type__in=wanted).delete()
    SubscriptionTopic.objects.bulk_create(
        [SubscriptionTopic(subscription=subscription, event_type=event) for event in wanted], ignore_conflicts=True
    )
    return subscription


@transaction.atomic(savepoint=False)
def webhook_subscription_secret_set(*, subscription: Subscription, secret: str, now: datetime) -> Subscription:
    """Sign with `secret` from now on; the old secret signs too for `SECRET_ROTATION_GRACE`."""
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_until = now + SECRET_ROTATION_GRACE
    subscription.secret = vault_encrypt(secret, purpose=WEBHOOK_SECRET_PURPOSE)
    subscription.secret_hint = secret[-4:]
    subscription.save(update_fields=["previous_secret", "previous_secret_until", "secret", "secret_hint"])
    return subscription


@transaction.atomic(savepoint=False)
def webhook_test_send(*, subscription: Subscription) -> EventDelivery:
    """A `webhook.test` event owed to this endpoint alone, delivered, signed and logged like any other."""
    organization = subscription.organization
    if organization is None:
        raise ValueError("Test events go to a partner's endpoint; this subscription has no organization.")
    payload = {"subscription_id": subscription.pk, "message": "A test event from Allied."}
    WEBHOOK_TEST.validate(payload)
    event = DomainEvent.objects.create(
        type=WEBHOOK_TEST.name,
        version=WEBHOOK_TEST.version,
        organization=organization,
        aggregate_type=Subscription._meta.label_lower,
        aggregate_id=str(subscription.pk),
        payload=payload,
    )
    return EventDelivery.objects.create(
        event=event,
        subscription=subscription,
        aggregate_key=f"{event.aggregate_type}:{event.aggregate_id}",
        next_attempt_at=event.occurred_at,
    )


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


def _signatures(subscription: Subscription, event_id: str, now: datetime, payload: str) -> str:
    """`v1,<base64>`, and a second one with the previous secret while a rotation's grace lasts."""
    secrets = [subscription.secret]
    if subscription.previous_secret and subscription.previous_secret_until and subscription.previous_secret_until > now:
        secrets.append(subscription.previous_secret)
    return " ".join(
        Webhook(vault_decrypt(sealed, purpose=WEBHOOK_SECRET_PURPOSE)).sign(event_id, now, payload)
        for sealed in secrets
    )


def _post(subscription: Subscription, body: dict[str, Any], event_id: str, now: datetime) -> int:
    payload = json.dumps(body, separators=(",", ":"), default=str)
    headers = {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": _signatures(subscription, event_id, now, payload),
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


def _next_delay(subscription: Subscription, attempts: int) -> tuple[timedelta | None, timedelta]:
    """The wait before the next attempt (None: that was the last) and the most `Retry-After` may ask."""
    if subscription.kind == Subscription.Kind.WEBHOOK:
        schedule = WEBHOOK_RETRY_SCHEDULE
        return (schedule[attempts - 1] if attempts <= len(schedule) else None), max(schedule)
    cap = timedelta(seconds=settings.ALLIED_OUTBOX_RETRY_MAX_SECONDS)
    return (retry_delay(attempts) if attempts < settings.ALLIED_OUTBOX_MAX_ATTEMPTS else None), cap


def _disable_if_failing(subscription: Subscription, *, now: datetime, error: str) -> None:
    """Disable the endpoint when it has accepted no delivery for `DISABLE_AFTER`; the conditional
    update lets one relay alone disable it and record the event."""
    since = now - DISABLE_AFTER
    reason = (
        f"No delivery succeeded since {subscription.failing_since:%Y-%m-%d %H:%M} UTC, and a delivery has now "
        f"failed for good. The last error: {error}"
    )
    disabled = Subscription.objects.filter(
        pk=subscription.pk, is_active=True, failing_since__lte=since, disabled_at__isnull=True
    ).update(is_active=False, disabled_at=now, disabled_reason=reason[:2000])
    if not disabled:
        return
    subscription.refresh_from_db()
    payload = {"subscription_id": subscription.pk, "url": subscription.url, "reason": subscription.disabled_reason}
    domain_event_record(
        type=WEBHOOK_DISABLED, organization=subscription.organization, aggregate=subscription, payload=payload
    )
    audit_record(
        action="webhook.disabled",
        actor=None,
        organization=subscription.organization,
        target=subscription,
        changes={"reason": subscription.disabled_reason},
    )
    logger.warning("webhook subscription %s disabled: %s", subscription.pk, subscription.disabled_reason)


def _record_failure(delivery: EventDelivery, failure: DeliveryFailed, *, now: datetime, started: float) -> None:
    delivery.last_error = str(failure)[:2000]
    delay, cap = _next_delay(delivery.subscription, delivery.attempts)
    if failure.final or delay is None:
        delivery.status = DeliveryStatus.FAILED
    else:
        if failure.retry_after is not None:
            delay = min(max(delay, failure.retry_after), cap)
        delivery.next_attempt_at = now + delay
    delivery.save(update_fields=["status", "last_error", "next_attempt_at", "attempts"])
    DeliveryAttempt.objects.create(
        delivery=delivery,
        at=now,
        duration_ms=int((time.monotonic() - started) * 1000),
        status_code=failure.status_code,
        error=str(failure)[:2000],
    )
    subscription = delivery.subscription
    if subscription.kind == Subscription.Kind.WEBHOOK:
        Subscription.objects.filter(pk=subscription.pk, failing_since__isnull=True).update(failing_since=now)
        subscription.refresh_from_db(fields=["failing_since"])
        if delivery.status == DeliveryStatus.FAILED:
            _disable_if_failing(subscription, now=now, error=delivery.last_error)
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
    if delivery.subscription.failing_since is not None:
        Subscription.objects.filter(pk=delivery.subscription_id).update(failing_since=None)


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
    """For a leased delivery: send outside any transaction, then record (as of when it was
    sent), so a slow endpoint holds no lock."""
    started = time.monotonic()
    try:
        status_code = _post(delivery.subscription, _envelope(delivery.event), f"evt_{delivery.event_id}", now)
    except DeliveryFailed as failure:
        with transaction.atomic(durable=True):
            _record_failure(delivery, failure, now=now, started=started)
        return
    with transaction.atomic(durable=True):
        _record_success(delivery, now=now, started=started, status_code=status_code)


def outbox_relay(*, limit: int = 100, now: datetime | None = None) -> int:
    """Work through up to `limit` due deliveries, each in a transaction of its own; returns how
    many were attempted. Safe to run in any number of processes at once. `now` stops the clock
    there (a test walks a day of retries without waiting)."""
    attempted = 0
    clock = now
    while attempted < limit:
        now = clock or timezone.now()
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
