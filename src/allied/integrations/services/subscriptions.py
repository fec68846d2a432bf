"""Partners' webhook endpoints: their apps subscribe to Allied's domain events and receive them
signed (Standard Webhooks) through the outbox (`core.outbox`), which retries, logs every attempt
and disables an endpoint that keeps failing; `subscription_disabled_notify` tells the owners."""

import base64
import ipaddress
import secrets
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from allied.accounts.models import Membership, Organization
from allied.accounts.policy import WEBHOOKS_MANAGE, Actor, require
from allied.accounts.roles import Role
from allied.core import outbox
from allied.core.audit import audit_record
from allied.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from allied.core.event_types import WEBHOOK_DISABLED, subscribable_topics
from allied.core.locks import subscription_for_update
from allied.core.models import DeliveryStatus, DomainEvent, EventDelivery, Subscription

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _require_manage(actor: Actor, organization: Organization | None) -> None:
    require(actor, WEBHOOKS_MANAGE)
    if not actor.is_operator and actor.organization != organization:
        raise NotFound("No such webhook endpoint.")


def _endpoint_url(url: str) -> str:
    """https:// to a public host; http:// only to this machine, and only where the setting allows
    it. An address naming a private network is refused: Allied would call into its own."""
    url = url.strip()
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    local = host in LOCAL_HOSTS
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        internal = local
    else:
        internal = not address.is_global
    if local and settings.ALLIED_WEBHOOKS_ALLOW_LOCAL_HTTP and parts.scheme in ("http", "https"):
        problem = ""
    elif parts.scheme != "https" or not host:
        problem = "An https:// address."
    elif internal:
        problem = "A public address: not this machine or a private network."
    else:
        problem = ""
    if not problem and (parts.username or parts.password or len(url) > 500):
        problem = "An address without a user name or password, of at most 500 characters."
    if problem:
        raise ValidationFailed("The endpoint's address is not accepted.", errors=[FieldError("url", problem)])
    return url


def _topics(event_types: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(name.strip() for name in event_types))
    if not wanted:
        raise ValidationFailed("Choose what to receive.", errors=[FieldError("event_types", "Choose at least one.")])
    offered = set(subscribable_topics())
    unknown = [name for name in wanted if name not in offered]
    if unknown:
        raise ValidationFailed(
            "Not in the event catalogue.",
            errors=[FieldError("event_types", f"Unknown: {', '.join(unknown)}. See the catalogue in the API docs.")],
        )
    return wanted


def _description(description: str) -> str:
    description = description.strip()
    if len(description) > 100:
        raise ValidationFailed("Too long.", errors=[FieldError("description", "At most 100 characters.")])
    return description


def _checked[In, Out](check: Callable[[In], Out], value: In, errors: list[FieldError]) -> Out | None:
    """The checked value, or None with its errors added: every field's problem is told at once."""
    try:
        return check(value)
    except ValidationFailed as error:
        errors.extend(error.errors)
        return None


def _new_secret() -> str:
    """Standard Webhooks' form: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _locked(subscription: Subscription) -> Subscription:
    locked = subscription_for_update(subscription.pk)
    if locked.deleted_at is not None:
        raise NotFound("No such webhook endpoint.")
    return locked


@transaction.atomic(savepoint=False)
def subscription_create(
    *, organization: Organization, url: str, event_types: Iterable[str], description: str = "", actor: Actor
) -> tuple[Subscription, str]:
    """An endpoint of the partner's that receives these event types (or families, `order.*`) of
    its organization. Returns the signing secret, which is never shown again (only its last four
    characters)."""
    _require_manage(actor, organization)
    errors: list[FieldError] = []
    checked_url = _checked(_endpoint_url, url, errors)
    topics = _checked(_topics, event_types, errors)
    label = _checked(_description, description, errors)
    if errors or checked_url is None or topics is None or label is None:
        raise ValidationFailed("The webhook endpoint is not complete.", errors=errors)
    secret = _new_secret()
    subscription = outbox.webhook_subscription_create(
        name=f"webhook-{secrets.token_hex(8)}",
        url=checked_url,
        secret=secret,
        event_types=topics,
        organization=organization,
        description=label,
    )
    audit_record(
        action="webhook.created",
        actor=actor,
        organization=organization,
        target=subscription,
        changes={"url": subscription.url, "event_types": topics},
    )
    return subscription, secret


@transaction.atomic(savepoint=False)
def subscription_update(
    *,
    subscription: Subscription,
    url: str | None = None,
    event_types: Iterable[str] | None = None,
    description: str | None = None,
    actor: Actor,
) -> Subscription:
    """Change the address, what it receives (from the next event on) or its label."""
    _require_manage(actor, subscription.organization)
    subscription = _locked(subscription)
    before = {"url": subscription.url, "event_types": sorted(t.event_type for t in subscription.topics.all())}
    if url is not None:
        subscription.url = _endpoint_url(url)
    if description is not None:
        subscription.description = _description(description)
    subscription.save(update_fields=["url", "description"])
    if event_types is not None:
        outbox.webhook_subscription_topics_set(subscription=subscription, event_types=_topics(event_types))
    after = {"url": subscription.url, "event_types": sorted(t.event_type for t in subscription.topics.all())}
    audit_record(
        action="webhook.updated",
        actor=actor,
        organization=subscription.organization,
        target=subscription,
        changes={key: [before[key], after[key]] for key in before if before[key] != after[key]},
    )
    return subscription


@transaction.atomic(savepoint=False)
def subscription_rotate_secret(*, subscription: Subscription, actor: Actor) -> tuple[Subscription, str]:
    """A new signing secret, returned once; for a day every event carries a second signature made
    with the old one, so the receiver can switch without losing events."""
    _require_manage(actor, subscription.organization)
    subscription = _locked(subscription)
    secret = _new_secret()
    outbox.webhook_subscription_secret_set(subscription=subscription, secret=secret, now=timezone.now())
    audit_record(
        action="webhook.secret_rotated", actor=actor, organization=subscription.organization, target=subscription
    )
    return subscription, secret


@transaction.atomic(savepoint=False)
def subscription_pause(*, subscription: Subscription, actor: Actor) -> Subscription:
    """No event is owed to a paused endpoint; deliveries already owed wait until it is resumed."""
    _require_manage(actor, subscription.organization)
    subscription = _locked(subscription)
    if not subscription.is_active:
        return subscription
    subscription.is_active = False
    subscription.save(update_fields=["is_active"])
    audit_record(action="webhook.paused", actor=actor, organization=subscription.organization, target=subscription)
    return subscription


@transaction.atomic(savepoint=False)
def subscription_resume(*, subscription: Subscription, actor: Actor) -> Subscription:
    """Resume a paused endpoint, or re-enable one the relay disabled: its waiting deliveries go
    out and new events are owed to it again."""
    _require_manage(actor, subscription.organization)
    subscription = _locked(subscription)
    if subscription.is_active:
        return subscription
    was = subscription.status
    subscription.is_active = True
    subscription.disabled_at = None
    subscription.disabled_reason = ""
    subscription.failing_since = None
    subscription.save(update_fields=["is_active", "disabled_at", "disabled_reason", "failing_since"])
    audit_record(
        action="webhook.resumed",
        actor=actor,
        organization=subscription.organization,
        target=subscription,
        changes={"status": [was, "active"]},
    )
    return subscription


@transaction.atomic(savepoint=False)
def subscription_delete(*, subscription: Subscription, actor: Actor) -> Subscription:
    """Stop for good: nothing more is owed, deliveries still owed fail, the secrets are forgotten;
    the deliveries and their attempts stay for the record."""
    _require_manage(actor, subscription.organization)
    subscription = _locked(subscription)
    subscription.deleted_at = timezone.now()
    subscription.is_active = False
    subscription.secret = subscription.previous_secret = ""
    subscription.save(update_fields=["deleted_at", "is_active", "secret", "previous_secret"])
    subscription.deliveries.filter(status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, last_error="The endpoint was deleted."
    )
    audit_record(action="webhook.deleted", actor=actor, organization=subscription.organization, target=subscription)
    return subscription


@transaction.atomic(savepoint=False)
def subscription_send_test(*, subscription: Subscription, actor: Actor) -> EventDelivery:
    """Send a `webhook.test` event to this endpoint alone, logged like any delivery."""
    _require_manage(actor, subscription.organization)
    subscription = _locked(subscription)
    if not subscription.is_active:
        raise Conflict("The endpoint is not active: resume it first.")
    delivery = outbox.webhook_test_send(subscription=subscription)
    audit_record(action="webhook.test_sent", actor=actor, organization=subscription.organization, target=subscription)
    return delivery


@transaction.atomic(savepoint=False)
def subscription_delivery_replay(*, delivery: EventDelivery, actor: Actor) -> EventDelivery:
    """Send a failed delivery again from its first attempt (its earlier attempts stay in the log);
    to a paused or disabled endpoint it goes once the endpoint is active again."""
    subscription = delivery.subscription
    _require_manage(actor, subscription.organization)
    _locked(subscription)
    if delivery.status != DeliveryStatus.FAILED:
        raise Conflict("Only a failed delivery can be sent again.")
    delivery = outbox.delivery_replay(delivery=delivery)
    audit_record(
        action="webhook.delivery_replayed",
        actor=actor,
        organization=subscription.organization,
        target=subscription,
        changes={"delivery": delivery.pk, "event": f"evt_{delivery.event_id}"},
    )
    return delivery


@outbox.consumer("integrations.webhook_disabled_notice", event_types=[WEBHOOK_DISABLED.name])
def subscription_disabled_notify(event: DomainEvent) -> None:
    """Mail the owners of the partner whose endpoint the relay disabled: which endpoint, why, and
    how to turn it on again. Runs in the delivery's transaction: a failed send is tried again."""
    owners = list(
        Membership.objects.filter(
            organization_id=event.organization_id, role=Role.OWNER, user__is_active=True
        ).values_list("user__email", flat=True)
    )
    subscription = Subscription.objects.filter(pk=event.payload["subscription_id"]).first()
    if not owners or subscription is None:
        return
    page = f"{settings.ALLIED_BASE_URL}{reverse('portal_webhook', args=[subscription.pk])}"
    send_mail(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}Webhook endpoint disabled: {event.payload['url']}",
        message=(
            f"Allied stopped sending events to your webhook endpoint {event.payload['url']}"
            f"{f' ({subscription.description})' if subscription.description else ''}.\n\n"
            f"Why: {event.payload['reason']}\n\n"
            "Events that happen while it is disabled are not kept for it; deliveries that were still "
            "being retried wait for it.\n\n"
            f"To turn it on again, fix the endpoint, then open {page} and press \u201cRe-enable\u201d "
            f"(or call POST /api/v1/webhooks/{subscription.pk}/resume). Failed deliveries can be sent again "
            "from the same page's delivery log.\n"
        ),
        from_email=None,
        recipient_list=sorted(owners),
    )
