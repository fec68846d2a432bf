"""Every write of integrations: connecting stores, and taking their webhooks in through the inbox."""

import json
import logging
from collections.abc import Mapping
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from allied.accounts.models import Organization
from allied.accounts.policy import INTEGRATIONS_MANAGE, Actor, require
from allied.core.audit import audit_record
from allied.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from allied.core.vault import vault_decrypt, vault_encrypt
from allied.integrations import shopify, tasks, woocommerce  # noqa: F401  (shopify, woocommerce: each registers its connector)
from allied.integrations.connectors import Cancel, Ignore, MappingFailed, TakeIn, connector_for
from allied.integrations.models import Connection, ConnectionKind, ConnectionStatus, InboxMessage, InboxStatus
from allied.orders.models import Order, OrderStatus
from allied.orders.services.intake import order_receive
from allied.orders.services.lifecycle import order_cancel

logger = logging.getLogger(__name__)

SECRET_ROTATION_GRACE = timedelta(hours=1)


def credential_purpose(connection_kind: str, name: str) -> str:
    return f"integrations.{connection_kind}.{name}"


def _check_tenant(actor: Actor, organization: Organization) -> None:
    require(actor, INTEGRATIONS_MANAGE)
    if not actor.is_operator and actor.organization != organization:
        raise NotFound("No such organization.")


def _store_url(kind: str, store_url: str) -> str:
    url = store_url.strip().rstrip("/").lower()
    if kind == ConnectionKind.SHOPIFY:
        domain = url.removeprefix("https://").removeprefix("http://")
        label = domain.removesuffix(".myshopify.com")
        if not domain.endswith(".myshopify.com") or not label or not label.replace("-", "").isalnum():
            raise ValidationFailed(
                "Not a Shopify store domain.",
                errors=[FieldError("store_url", "The store's *.myshopify.com domain, e.g. kohsar.myshopify.com.")],
            )
        return f"https://{domain}"
    if not url.startswith("https://"):
        raise ValidationFailed(
            "Not an https address.", errors=[FieldError("store_url", "The site's https:// address.")]
        )
    return url


@transaction.atomic(savepoint=False)
def connection_create(
    *, organization: Organization, kind: str, name: str, store_url: str, credentials: Mapping[str, str], actor: Actor
) -> Connection:
    """Connect a partner's store with the tokens and secrets the store issued for Allied, each sealed in
    the vault for its own purpose; only their last four characters are ever shown again."""
    _check_tenant(actor, organization)
    if kind not in ConnectionKind.values:
        raise ValidationFailed(
            "Unknown store platform.", errors=[FieldError("kind", f"One of {', '.join(ConnectionKind.values)}.")]
        )
    connector = connector_for(kind)
    errors = [
        FieldError(field, "Required.") for field in connector.credential_names if not credentials.get(field, "").strip()
    ]
    errors += [FieldError(field, "Not asked for.") for field in credentials if field not in connector.credential_names]
    if not name.strip():
        errors.append(FieldError("name", "Give the connection a name."))
    if errors:
        raise ValidationFailed("The connection is not complete.", errors=errors)
    url = _store_url(kind, store_url)
    if Connection.objects.filter(kind=kind, store_url=url).exclude(status=ConnectionStatus.DISCONNECTED).exists():
        raise Conflict("This store is already connected.", errors=[FieldError("store_url", "Already connected.")])
    values = {field: credentials[field].strip() for field in connector.credential_names}
    connection = Connection.objects.create(
        organization=organization,
        kind=kind,
        name=name.strip(),
        store_url=url,
        credentials={
            field: vault_encrypt(value, purpose=credential_purpose(kind, field)) for field, value in values.items()
        },
        credential_hints={field: "…" + value[-4:] for field, value in values.items()},
    )
    audit_record(action="integration.connected", actor=actor, organization=organization, target=connection)
    return connection


def connection_secret(connection: Connection, name: str) -> str:
    return vault_decrypt(connection.credentials[name], purpose=credential_purpose(connection.kind, name))


def webhook_secrets(connection: Connection, *, now=None) -> list[str]:
    """The secrets a webhook may be signed with: the current one, and the one before it for an hour
    after a rotation (Shopify signs with the old secret until the app is updated)."""
    connector = connector_for(connection.kind)
    secrets = [connection_secret(connection, connector.webhook_secret)]
    if (
        connection.previous_webhook_secret
        and connection.previous_secret_until
        and connection.previous_secret_until > (now or timezone.now())
    ):
        secrets.append(
            vault_decrypt(
                connection.previous_webhook_secret,
                purpose=credential_purpose(connection.kind, connector.webhook_secret),
            )
        )
    return secrets


@transaction.atomic(savepoint=False)
def connection_rotate_webhook_secret(*, connection: Connection, secret: str, actor: Actor) -> Connection:
    """Take the store's new webhook secret; the old one is still accepted for an hour."""
    _check_tenant(actor, connection.organization)
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    field = connector_for(connection.kind).webhook_secret
    purpose = credential_purpose(connection.kind, field)
    connection.previous_webhook_secret = connection.credentials[field]
    connection.previous_secret_until = timezone.now() + SECRET_ROTATION_GRACE
    connection.credentials = {**connection.credentials, field: vault_encrypt(secret.strip(), purpose=purpose)}
    connection.credential_hints = {**connection.credential_hints, field: "…" + secret.strip()[-4:]}
    connection.save(
        update_fields=["previous_webhook_secret", "previous_secret_until", "credentials", "credential_hints"]
    )
    audit_record(
        action="integration.secret_rotated", actor=actor, organization=connection.organization, target=connection
    )
    return connection


def _set_status(connection: Connection, status: str, actor: Actor, *, allowed_from: set[str]) -> Connection:
    _check_tenant(actor, connection.organization)
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    if connection.status == status:
        return connection
    if connection.status not in allowed_from:
        raise Conflict(f"The connection is {connection.get_status_display().lower()}.")
    connection.status = status
    update = ["status"]
    if status == ConnectionStatus.DISCONNECTED:
        connection.credentials, connection.previous_webhook_secret = {}, ""
        update += ["credentials", "previous_webhook_secret"]
    connection.save(update_fields=update)
    audit_record(action=f"integration.{status}", actor=actor, organization=connection.organization, target=connection)
    return connection


@transaction.atomic(savepoint=False)
def connection_pause(*, connection: Connection, actor: Actor) -> Connection:
    """Refuse the store's webhooks for now (it retries them) and push nothing to it."""
    return _set_status(connection, ConnectionStatus.PAUSED, actor, allowed_from={ConnectionStatus.ACTIVE})


@transaction.atomic(savepoint=False)
def connection_resume(*, connection: Connection, actor: Actor) -> Connection:
    return _set_status(connection, ConnectionStatus.ACTIVE, actor, allowed_from={ConnectionStatus.PAUSED})


@transaction.atomic(savepoint=False)
def connection_disconnect(*, connection: Connection, actor: Actor) -> Connection:
    """Forget the store's credentials for good; its inbox and orders stay."""
    return _set_status(
        connection,
        ConnectionStatus.DISCONNECTED,
        actor,
        allowed_from={ConnectionStatus.ACTIVE, ConnectionStatus.PAUSED},
    )


@transaction.atomic(savepoint=False)
def inbox_receive(*, connection: Connection, topic: str, delivery_key: str, body: bytes) -> InboxMessage | None:
    """Keep an authentic delivery as it came and queue its processing, in one transaction; a
    delivery already kept (the store sent it again) is dropped: returns None."""
    store_order_id, malformed = "", ""
    try:
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise ValueError("not a JSON object")
        store_order_id = connector_for(connection.kind).store_order_id(topic, payload)
    except ValueError as error:  # UnicodeDecodeError included
        malformed = f"The body is not a JSON object: {error}."
    try:
        with transaction.atomic():
            message = InboxMessage.objects.create(
                organization_id=connection.organization_id,
                connection=connection,
                topic=topic[:100],
                delivery_key=delivery_key[:200],
                store_order_id=store_order_id[:64],
                body=body.decode("utf-8", errors="replace"),
                status=InboxStatus.REJECTED if malformed else InboxStatus.PENDING,
                reason=malformed,
            )
    except IntegrityError:
        return None
    Connection.objects.filter(pk=connection.pk).update(last_webhook_at=timezone.now())
    if not malformed:
        tasks.process_inbox_message.enqueue(message.pk)
    return message


def _finish(message: InboxMessage, status: str, reason: str = "", order: Order | None = None) -> str:
    message.status, message.reason, message.order = status, reason[:2000], order
    message.processed_at = timezone.now()
    message.save(update_fields=["status", "reason", "order", "processed_at", "attempts"])
    return status


def _cancelled_in_store(message: InboxMessage, store_order_id: str) -> bool:
    cancels = InboxMessage.objects.filter(connection_id=message.connection_id, store_order_id=store_order_id)
    cancels = cancels.exclude(pk=message.pk).filter(reason__startswith="Cancelled in the store")
    return cancels.exists()


@transaction.atomic(savepoint=False)
def inbox_message_process(*, message_id: int) -> str:
    """Apply one kept delivery, once: a store order is taken in through the same intake as every
    order (in this transaction, so the inbox row and the order commit together), a cancellation
    cancels it, anything that cannot apply is rejected with its reason, never half-applied.
    Deliveries arrive in any order: a cancellation seen first is remembered, and the order it
    cancels is then not taken in."""
    message = InboxMessage.objects.select_for_update().select_related("connection__organization").get(pk=message_id)
    if message.status not in (InboxStatus.PENDING, InboxStatus.FAILED):
        return message.status
    message.attempts += 1
    connection = message.connection
    actor = Actor.system(f"{connection.get_kind_display()} connection {connection.pk}")
    try:
        payload = json.loads(message.body)
        if not isinstance(payload, dict):
            raise ValueError("not a JSON object")
    except ValueError as error:
        return _finish(message, InboxStatus.REJECTED, f"The body is not a JSON object: {error}.")
    try:
        action = connector_for(connection.kind).action(message.topic, payload)
    except (MappingFailed, TypeError, ValueError) as error:
        return _finish(message, InboxStatus.REJECTED, f"The store's order cannot be read: {error}")
    if isinstance(action, Ignore):
        return _finish(message, InboxStatus.IGNORED, action.reason)
    if isinstance(action, Cancel):
        order = Order.objects.filter(
            organization_id=connection.organization_id, channel=connection.kind, external_id=action.store_order_id
        ).first()
        if order is None:
            return _finish(message, InboxStatus.PROCESSED, "Cancelled in the store before Allied took it in.")
        if order.status != OrderStatus.CANCELLED:
            try:
                with transaction.atomic():
                    order_cancel(order=order, reason=f"Cancelled in {connection.get_kind_display()}", actor=actor)
            except Conflict as error:
                return _finish(message, InboxStatus.REJECTED, f"Cancelled in the store, but {error.detail}", order)
        return _finish(message, InboxStatus.PROCESSED, "Cancelled in the store.", order)
    assert isinstance(action, TakeIn)
    if _cancelled_in_store(message, action.order.external_id):
        return _finish(message, InboxStatus.IGNORED, "Cancelled in the store before Allied took it in.")
    try:
        with transaction.atomic():
            intake = order_receive(organization=connection.organization, data=action.order, actor=actor)
    except ValidationFailed as refused:
        problems = "; ".join(f"{error.field}: {error.message}" for error in refused.errors) or refused.detail
        return _finish(message, InboxStatus.REJECTED, f"On hold: {problems}")
    except Conflict as refused:
        return _finish(message, InboxStatus.REJECTED, f"On hold: {refused.detail}")
    note = "Taken in." if intake.created else "Already taken in."
    return _finish(message, InboxStatus.PROCESSED, note, intake.order)


@transaction.atomic(savepoint=False)
def inbox_message_fail(*, message_id: int, reason: str) -> None:
    """Record why processing raised; the task retries, and a replay is possible after the last try."""
    InboxMessage.objects.filter(pk=message_id, status__in=[InboxStatus.PENDING, InboxStatus.FAILED]).update(
        status=InboxStatus.FAILED, reason=reason[:2000]
    )


@transaction.atomic(savepoint=False)
def inbox_message_replay(*, message: InboxMessage, actor: Actor) -> InboxMessage:
    """Process a failed or rejected delivery again (after the SKU was added, say)."""
    _check_tenant(actor, message.connection.organization)
    message = InboxMessage.objects.select_for_update().get(pk=message.pk)
    if message.status not in (InboxStatus.FAILED, InboxStatus.REJECTED):
        raise Conflict("Only a failed or rejected delivery can be processed again.")
    message.status, message.reason = InboxStatus.PENDING, ""
    message.save(update_fields=["status", "reason"])
    tasks.process_inbox_message.enqueue(message.pk)
    return message
