from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from allied.accounts.policy import INTEGRATIONS_MANAGE, WEBHOOKS_MANAGE, Actor, require
from allied.core.errors import NotFound
from allied.core.models import EventDelivery, Subscription
from allied.integrations.models import Connection, InboxMessage, InboxStatus


def connection_for_webhook(*, kind: str, public_id: str) -> Connection | None:
    """The connection a store's webhook names in its address, whatever its status."""
    try:
        key = UUID(public_id)
    except ValueError:
        return None
    return Connection.objects.select_related("organization").filter(kind=kind, public_id=key).first()


def webhook_address(connection: Connection) -> str:
    """Where the store delivers its webhooks for this connection."""
    path = reverse("store_webhook", kwargs={"kind": connection.kind, "public_id": connection.public_id})
    return f"{settings.ALLIED_BASE_URL}{path}"


def connections_visible_to(actor: Actor) -> QuerySet[Connection]:
    require(actor, INTEGRATIONS_MANAGE)
    return Connection.objects.visible_to(actor).select_related("organization")


def access_connection(actor: Actor, connection_id: int) -> Connection:
    try:
        return connections_visible_to(actor).get(pk=connection_id)
    except Connection.DoesNotExist:
        raise NotFound("No such connection.") from None


def inbox_of(connection: Connection) -> QuerySet[InboxMessage]:
    return connection.inbox.select_related("order")


def connections_with_health(actor: Actor) -> QuerySet[Connection]:
    """Connections with how many deliveries wait and how many were refused or failed."""
    return connections_visible_to(actor).annotate(
        waiting=Count("inbox", filter=Q(inbox__status=InboxStatus.PENDING)),
        problems=Count("inbox", filter=Q(inbox__status__in=[InboxStatus.REJECTED, InboxStatus.FAILED])),
    )


@dataclass(frozen=True)
class ConnectionHealth:
    last_webhook_at: datetime | None
    waiting: int
    oldest_waiting_since: datetime | None  # the lag: how long the oldest waiting delivery has waited
    processed: int
    rejected: int
    failed: int
    last_poll_at: datetime | None
    last_poll_error: str
    last_check_at: datetime | None
    last_check_error: str
    last_stock_push_at: datetime | None
    last_stock_push_error: str
    stock_pending: int
    comparison: dict[str, Any] | None


def connection_health(connection: Connection) -> ConnectionHealth:
    counts = dict(connection.inbox.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    oldest = (
        connection.inbox.filter(status=InboxStatus.PENDING)
        .order_by("received_at")
        .values_list("received_at", flat=True)
        .first()
    )
    return ConnectionHealth(
        last_webhook_at=connection.last_webhook_at,
        waiting=counts.get(InboxStatus.PENDING, 0),
        oldest_waiting_since=oldest,
        processed=counts.get(InboxStatus.PROCESSED, 0) + counts.get(InboxStatus.IGNORED, 0),
        rejected=counts.get(InboxStatus.REJECTED, 0),
        failed=counts.get(InboxStatus.FAILED, 0),
        last_poll_at=connection.last_poll_at,
        last_poll_error=connection.last_poll_error,
        last_check_at=connection.last_check_at,
        last_check_error=connection.last_check_error,
        last_stock_push_at=connection.last_stock_push_at,
        last_stock_push_error=connection.last_stock_push_error,
        stock_pending=connection.stock_pending.count(),
        comparison=connection.comparison or None,
    )


def webhook_subscriptions_visible_to(actor: Actor) -> QuerySet[Subscription]:
    """Partners' webhook endpoints (deleted ones aside): a partner's own, every partner's for AES."""
    require(actor, WEBHOOKS_MANAGE)
    return (
        Subscription.objects.visible_to(actor)
        .filter(kind=Subscription.Kind.WEBHOOK, deleted_at__isnull=True)
        .select_related("organization")
        .prefetch_related("topics")
        .order_by("-created_at", "-pk")
    )


def access_webhook_subscription(actor: Actor, subscription_id: int) -> Subscription:
    try:
        return webhook_subscriptions_visible_to(actor).get(pk=subscription_id)
    except Subscription.DoesNotExist:
        raise NotFound("No such webhook endpoint.") from None


def webhook_deliveries(subscription: Subscription) -> QuerySet[EventDelivery]:
    """The delivery log, newest first, each delivery with its event and attempts."""
    return (
        subscription.deliveries.select_related("event", "subscription__organization")
        .prefetch_related("attempt_log")
        .order_by("-event_id", "-pk")
    )


def access_webhook_delivery(subscription: Subscription, delivery_id: int) -> EventDelivery:
    try:
        return webhook_deliveries(subscription).get(pk=delivery_id)
    except EventDelivery.DoesNotExist:
        raise NotFound("No such delivery.") from None
