"""/api/v1/webhooks: partners' applications manage the endpoints Allied sends their events to."""

from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest
from ninja import Query, Router, Status

from allied.accounts.policy import Actor
from allied.core.models import DeliveryStatus, EventDelivery, Subscription
from allied.core.pagination import paginate_by_id
from allied.core.schemas import PROBLEM_STATUSES, ProblemSchema
from allied.integrations.schemas import (
    DeliveryAttemptOut,
    DeliveryFilters,
    DeliveryOut,
    DeliveryPageOut,
    WebhookCreateIn,
    WebhookOut,
    WebhookUpdateIn,
    WebhookWithSecretOut,
)
from allied.integrations.selectors import (
    access_webhook_delivery,
    access_webhook_subscription,
    webhook_deliveries,
    webhook_subscriptions_visible_to,
)
from allied.integrations.services.subscriptions import (
    subscription_create,
    subscription_delete,
    subscription_delivery_replay,
    subscription_pause,
    subscription_resume,
    subscription_rotate_secret,
    subscription_send_test,
    subscription_update,
)

router = Router(tags=["Webhooks"])


def _out(subscription: Subscription) -> dict:
    return {
        "id": subscription.pk,
        "url": subscription.url,
        "description": subscription.description,
        "event_types": sorted(topic.event_type for topic in subscription.topics.all()),
        "status": subscription.status,
        "disabled_reason": subscription.disabled_reason,
        "secret_hint": subscription.secret_hint,
        "created_at": subscription.created_at,
    }


def _delivery_out(delivery: EventDelivery) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.pk,
        event_id=f"evt_{delivery.event_id}",
        event_type=delivery.event.type,
        status=delivery.status,
        attempts=[DeliveryAttemptOut.model_validate(attempt) for attempt in delivery.attempt_log.all()],
        next_attempt_at=delivery.next_attempt_at if delivery.status == DeliveryStatus.PENDING else None,
        last_error=delivery.last_error,
    )


@router.get(
    "/webhooks",
    response={200: list[WebhookOut], PROBLEM_STATUSES: ProblemSchema},
    operation_id="webhooks_list",
    summary="List webhook endpoints",
)
def webhooks_list(request: HttpRequest) -> list[dict]:
    """Your endpoints, newest first. Needs `webhooks:manage`."""
    return [_out(subscription) for subscription in webhook_subscriptions_visible_to(request.auth)[:200]]  # type: ignore[attr-defined]


@router.post(
    "/webhooks",
    response={201: WebhookWithSecretOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="webhooks_create",
    summary="Add a webhook endpoint",
)
def webhooks_create(request: HttpRequest, payload: WebhookCreateIn) -> Status:
    """Allied sends the chosen events of your organization to `url`, signed with Standard Webhooks.
    The answer carries the signing secret, the only time it is shown. Needs `webhooks:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    with transaction.atomic(durable=True):
        subscription, secret = subscription_create(
            organization=actor.organization,
            url=payload.url,
            event_types=payload.event_types,
            description=payload.description,
            actor=actor,
        )
    return Status(201, {**_out(access_webhook_subscription(actor, subscription.pk)), "secret": secret})


@router.get(
    "/webhooks/{webhook_id}",
    response={200: WebhookOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="webhooks_get",
    summary="Get a webhook endpoint",
)
def webhooks_get(request: HttpRequest, webhook_id: int) -> dict:
    """Needs `webhooks:manage`."""
    return _out(access_webhook_subscription(request.auth, webhook_id))  # type: ignore[attr-defined]


@router.patch(
    "/webhooks/{webhook_id}",
    response={200: WebhookOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="webhooks_update",
    summary="Change a webhook endpoint",
)
def webhooks_update(request: HttpRequest, webhook_id: int, payload: WebhookUpdateIn) -> dict:
    """Change the address, the event types (from the next event on) or the description; a field
    left out stays. Needs `webhooks:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    subscription = access_webhook_subscription(actor, webhook_id)
    with transaction.atomic(durable=True):
        subscription_update(
            subscription=subscription,
            url=payload.url,
            event_types=payload.event_types,
            description=payload.description,
            actor=actor,
        )
    return _out(access_webhook_subscription(actor, webhook_id))


def _change(request: HttpRequest, webhook_id: int, change: Callable[..., object]) -> dict:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    subscription = access_webhook_subscription(actor, webhook_id)
    with transaction.atomic(durable=True):
        change(subscription=subscription, actor=actor)
    return _out(access_webhook_subscription(actor, webhook_id))


@router.post(
    "/webhooks/{webhook_id}/pause",
    response={200: WebhookOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="webhooks_pause",
    summary="Pause a webhook endpoint",
)
def webhooks_pause(request: HttpRequest, webhook_id: int) -> dict:
    """Events that happen while it is paused are not sent to it; deliveries already being retried
    wait until it is resumed. Needs `webhooks:manage`."""
    return _change(request, webhook_id, subscription_pause)


@router.post(
    "/webhooks/{webhook_id}/resume",
    response={200: WebhookOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="webhooks_resume",
    summary="Resume or re-enable a webhook endpoint",
)
def webhooks_resume(request: HttpRequest, webhook_id: int) -> dict:
    """Resume a paused endpoint or re-enable one Allied disabled. Needs `webhooks:manage`."""
    return _change(request, webhook_id, subscription_resume)


@router.post(
    "/webhooks/{webhook_id}/rotate-secret",
    response={200: WebhookWithSecretOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="webhooks_rotate_secret",
    summary="Rotate a webhook endpoint's signing secret",
)
def webhooks_rotate_secret(request: HttpRequest, webhook_id: int) -> dict:
    """A new signing secret, shown this once. For 24 hours every event carries a second
    signature made with the old secret. Needs `webhooks:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    subscription = access_webhook_subscription(actor, webhook_id)
    with transaction.atomic(durable=True):
        _, secret = subscription_rotate_secret(subscription=subscription, actor=actor)
    return {**_out(access_webhook_subscription(actor, webhook_id)), "secret": secret}


@router.delete(
    "/webhooks/{webhook_id}",
    response={204: None, PROBLEM_STATUSES: ProblemSchema},
    operation_id="webhooks_delete",
    summary="Delete a webhook endpoint",
)
def webhooks_delete(request: HttpRequest, webhook_id: int) -> Status:
    """Nothing more is sent to it and deliveries still being retried fail; its delivery log is
    kept for the record. Needs `webhooks:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    subscription = access_webhook_subscription(actor, webhook_id)
    with transaction.atomic(durable=True):
        subscription_delete(subscription=subscription, actor=actor)
    return Status(204, None)


@router.post(
    "/webhooks/{webhook_id}/test",
    response={202: DeliveryOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="webhooks_test",
    summary="Send a test event",
)
def webhooks_test(request: HttpRequest, webhook_id: int) -> Status:
    """Send a `webhook.test` event to this endpoint; follow it in the delivery log. Needs
    `webhooks:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    subscription = access_webhook_subscription(actor, webhook_id)
    with transaction.atomic(durable=True):
        delivery = subscription_send_test(subscription=subscription, actor=actor)
    return Status(202, _delivery_out(access_webhook_delivery(subscription, delivery.pk)))


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response={200: DeliveryPageOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="webhooks_deliveries",
    summary="List an endpoint's deliveries",
)
def webhooks_deliveries(request: HttpRequest, webhook_id: int, filters: Query[DeliveryFilters]) -> dict:
    """Every event owed to the endpoint, oldest first, with each attempt: when, the HTTP status,
    how long it took, the error. Needs `webhooks:manage`."""
    subscription = access_webhook_subscription(request.auth, webhook_id)  # type: ignore[attr-defined]
    page = paginate_by_id(webhook_deliveries(subscription), cursor=filters.cursor, limit=filters.limit)
    return {"items": [_delivery_out(delivery) for delivery in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
    response={200: DeliveryOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="webhooks_delivery_replay",
    summary="Send a failed delivery again",
)
def webhooks_delivery_replay(request: HttpRequest, webhook_id: int, delivery_id: int) -> DeliveryOut:
    """Try a failed delivery again on the full retry schedule; its earlier attempts stay in the
    log. Needs `webhooks:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    subscription = access_webhook_subscription(actor, webhook_id)
    delivery = access_webhook_delivery(subscription, delivery_id)
    with transaction.atomic(durable=True):
        subscription_delivery_replay(delivery=delivery, actor=actor)
    return _delivery_out(access_webhook_delivery(subscription, delivery_id))
