"""Tokens a store reissues (Daraz exchanges its seller's access token with a refresh token): kept
sealed like the ones given when connecting."""

from collections.abc import Mapping
from datetime import datetime

from django.db import transaction

from allied.accounts.policy import Actor
from allied.core.audit import audit_record
from allied.core.errors import Conflict, FieldError, ValidationFailed
from allied.core.vault import vault_encrypt
from allied.integrations.connectors import connector_for
from allied.integrations.models import Connection, ConnectionStatus, credential_purpose
from allied.integrations.services.connections import require_manage


@transaction.atomic(savepoint=False)
def connection_credentials_refresh(
    *, connection: Connection, values: Mapping[str, str], actor: Actor, expires_at: datetime | None = None
) -> Connection:
    """Replace credentials the store reissued, each sealed in the vault for its own purpose, only
    their last four characters shown again; `expires_at` (the new access token's) goes to `remote`
    so the next call exchanges it before it lapses. A disconnected connection keeps no credentials,
    so it takes none."""
    require_manage(actor, connection.organization)
    names = connector_for(connection.kind).credential_names
    errors = [FieldError(name, "Not a credential of this store.") for name in values if name not in names]
    errors += [FieldError(name, "Required.") for name, value in values.items() if not value.strip()]
    if errors or not values:
        raise ValidationFailed("The store's new credentials are not complete.", errors=errors)
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    if connection.status == ConnectionStatus.DISCONNECTED:
        raise Conflict("The connection is disconnected.")
    cleaned = {name: value.strip() for name, value in values.items()}
    connection.credentials = {
        **connection.credentials,
        **{
            name: vault_encrypt(value, purpose=credential_purpose(connection.kind, name))
            for name, value in cleaned.items()
        },
    }
    connection.credential_hints = {
        **connection.credential_hints,
        **{name: "…" + value[-4:] for name, value in cleaned.items()},
    }
    update = ["credentials", "credential_hints"]
    if expires_at is not None:
        connection.remote = {**connection.remote, "access_token_expires_at": expires_at.isoformat()}
        update.append("remote")
    connection.save(update_fields=update)
    audit_record(
        action="integration.credentials_refreshed",
        actor=actor,
        organization=connection.organization,
        target=connection,
        changes={"credentials": sorted(cleaned)},
    )
    return connection
