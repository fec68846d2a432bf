"""Connecting partners' stores: credentials sealed in the vault, check, set-up in the store, resync,
pause, resume, disconnect, rotation."""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from allied.accounts.models import Organization
from allied.accounts.policy import INTEGRATIONS_MANAGE, Actor, require
from allied.core.audit import audit_record
from allied.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from allied.core.outbound import OutboundError
from allied.core.vault import vault_decrypt, vault_encrypt
from allied.integrations.connectors import connector_for
from allied.integrations.models import Connection, ConnectionKind, ConnectionStatus, credential_purpose
from allied.integrations.selectors import webhook_address

logger = logging.getLogger(__name__)

SECRET_ROTATION_GRACE = timedelta(hours=1)


def require_manage(actor: Actor, organization: Organization) -> None:
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
    require_manage(actor, organization)
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
    live = Connection.objects.filter(kind=kind, store_url=url).exclude(status=ConnectionStatus.DISCONNECTED)
    if kind != ConnectionKind.MARKETPLACE and live.exists():
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


def webhook_secrets(connection: Connection, *, now=None) -> list[str]:
    """The secrets a webhook may be signed with: the current one, and the one before it for an hour
    after a rotation (Shopify signs with the old secret until the app is updated)."""
    connector = connector_for(connection.kind)
    secrets = [connection.credential(connector.webhook_secret)]
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
    require_manage(actor, connection.organization)
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
    require_manage(actor, connection.organization)
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


@dataclass(frozen=True)
class StoreAnswer:
    ok: bool
    message: str


def _store_call(connection: Connection, actor: Actor, call: Callable[[Any], str]) -> StoreAnswer:
    """Run one request to the store outside any transaction; what it answered is kept on the connection."""
    require_manage(actor, connection.organization)
    if connection.status != ConnectionStatus.ACTIVE:
        raise Conflict(f"The connection is {connection.get_status_display().lower()}.")
    client = connector_for(connection.kind).client(connection)
    try:
        answer = StoreAnswer(True, call(client))
    except OutboundError as failure:
        answer = StoreAnswer(False, str(failure)[:2000])
    finally:
        client.close()
    return answer


def connection_check(*, connection: Connection, actor: Actor) -> StoreAnswer:
    """Prove the credentials still open the store; the answer shows on the health page."""
    answer = _store_call(connection, actor, lambda client: f"The store answered: {client.check()}.")
    with transaction.atomic(durable=True):
        Connection.objects.filter(pk=connection.pk).update(
            last_check_at=timezone.now(), last_check_error="" if answer.ok else answer.message
        )
        audit_record(
            action="integration.checked",
            actor=actor,
            organization=connection.organization,
            target=connection,
            changes={"ok": answer.ok},
        )
    return answer


def connection_set_up(*, connection: Connection, actor: Actor) -> StoreAnswer:
    """Subscribe the store's webhooks to this connection's address (and on Shopify register Allied as
    its fulfillment service); what the store assigned is kept, and running it again changes nothing."""
    remote: dict[str, Any] = {}

    def set_up(client: Any) -> str:
        remote.update(client.setup(webhook_address=webhook_address(connection)))
        return f"Webhooks subscribed: {len(remote.get('webhook_ids') or {})}."

    answer = _store_call(connection, actor, set_up)
    seller = remote.get("seller")
    if answer.ok and seller:
        twin = (
            Connection.objects.filter(kind=connection.kind, store_url=connection.store_url, remote__seller=seller)
            .exclude(pk=connection.pk)
            .exclude(status=ConnectionStatus.DISCONNECTED)
            .first()
        )
        if twin is not None:
            answer = StoreAnswer(False, f"This seller ({seller}) is already connected: {twin.name}.")
    with transaction.atomic(durable=True):
        now = timezone.now()
        if answer.ok:
            Connection.objects.filter(pk=connection.pk).update(
                remote={**connection.remote, **remote}, set_up_at=now, last_check_at=now, last_check_error=""
            )
        else:
            Connection.objects.filter(pk=connection.pk).update(last_check_at=now, last_check_error=answer.message)
        audit_record(
            action="integration.set_up",
            actor=actor,
            organization=connection.organization,
            target=connection,
            changes={"ok": answer.ok},
        )
    return answer


@transaction.atomic(savepoint=False)
def connection_resync(*, connection: Connection, actor: Actor) -> None:
    """Reconcile now, in the background: fetch what the store changed since the checkpoint, then
    compare the store's recent orders with Allied's."""
    from allied.integrations import tasks

    require_manage(actor, connection.organization)
    if connection.status != ConnectionStatus.ACTIVE:
        raise Conflict(f"The connection is {connection.get_status_display().lower()}.")
    tasks.poll_connection.enqueue(connection.pk, compare=True)
    audit_record(action="integration.resync", actor=actor, organization=connection.organization, target=connection)
