"""AES's courier accounts: connected with tokens sealed in the vault (Pathao's password is exchanged
once and kept nowhere), refreshed tokens stored back, webhook secrets rotated; the adapter of an
account; webhook deliveries verified and kept; consignments recorded."""

import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from allied.accounts.policy import DELIVERY_MANAGE, Actor, require
from allied.core.audit import audit_record
from allied.core.carriers import carrier_get
from allied.core.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from allied.core.tracking import TrackingStatus
from allied.core.vault import vault_encrypt
from allied.couriers.base import (
    ADAPTERS,
    Booking,
    CourierAdapter,
    CourierError,
    CourierEvent,
    CourierWebhookRefused,
    WebhookReply,
    adapter_for,
)
from allied.couriers.models import (
    CourierAccount,
    CourierConsignment,
    CourierWebhook,
    CourierWebhookStatus,
    credential_purpose,
)
from allied.couriers.pathao import PATHAO_BASE_URL, PATHAO_SANDBOX_URL, pathao_issue_token
from allied.couriers.steadfast import SteadfastAdapter

# What each courier's account holds (tokens and keys only), and which of them is the webhook secret.
CREDENTIAL_NAMES: dict[str, tuple[str, ...]] = {
    "pathao": ("client_id", "client_secret", "access_token", "refresh_token", "expires_at", "store_id"),
    "steadfast": ("api_key", "secret_key"),
}
WEBHOOK_SECRET: dict[str, str] = {"pathao": "webhook_secret", "steadfast": "webhook_token"}
REQUIRED: dict[str, tuple[str, ...]] = {
    "pathao": ("client_id", "client_secret", "access_token", "store_id"),
    "steadfast": ("api_key", "secret_key"),
}
SECRET_ROTATION_GRACE = timedelta(hours=24)  # a courier's panel is changed by hand
# What a person types to connect each courier (Pathao's login is exchanged for tokens and dropped).
CONNECT_FIELDS: dict[str, tuple[str, ...]] = {
    "pathao": ("client_id", "client_secret", "username", "password", "store_id", "webhook_secret"),
    "steadfast": ("api_key", "secret_key", "webhook_token"),
}


def _require_manage(actor: Actor) -> None:
    """Courier accounts are AES's: its dispatch managers (and Allied itself) connect them."""
    require(actor, DELIVERY_MANAGE)
    if not actor.is_operator:
        raise PermissionDenied("Courier accounts are AES's own.")


def _hint(value: str) -> str:
    return "…" + value[-4:]


def _sealed(code: str, values: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    tokens = {name: vault_encrypt(value, purpose=credential_purpose(code, name)) for name, value in values.items()}
    hints = {name: _hint(value) for name, value in values.items() if not name.startswith("previous_")}
    return tokens, hints


def _areas(areas: Iterable[str]) -> list[str]:
    return sorted({area.strip() for area in areas if area and area.strip()}, key=str.lower)


@transaction.atomic(savepoint=False)
def courier_account_create(
    *,
    code: str,
    name: str,
    credentials: Mapping[str, str],
    areas: Iterable[str] = (),
    sandbox: bool = False,
    actor: Actor,
) -> CourierAccount:
    """Store an account with the courier's tokens and keys, each sealed for its own purpose; only
    their last four characters are shown again. A password is never taken."""
    _require_manage(actor)
    if code not in ADAPTERS or carrier_get(code, field="code").adapter is None:
        raise ValidationFailed(
            "No courier adapter for this carrier.",
            errors=[FieldError("code", f"One of {', '.join(sorted(CREDENTIAL_NAMES))}.")],
        )
    allowed = {*CREDENTIAL_NAMES[code], WEBHOOK_SECRET[code]}
    values = {field: str(value).strip() for field, value in credentials.items() if str(value).strip()}
    errors = [
        FieldError(field, "Required.") for field in (*REQUIRED[code], WEBHOOK_SECRET[code]) if field not in values
    ]
    errors += [FieldError(field, "Not kept: only tokens and keys are.") for field in values if field not in allowed]
    if not name.strip():
        errors.append(FieldError("name", "Give the account a name."))
    if errors:
        raise ValidationFailed("The courier account is not complete.", errors=errors)
    tokens, hints = _sealed(code, values)
    account = CourierAccount.objects.create(
        code=code,
        name=name.strip(),
        credentials=tokens,
        credential_hints=hints,
        areas=_areas(areas),
        sandbox=sandbox,
    )
    audit_record(action="courier.account_connected", actor=actor, target=account)
    return account


def courier_account_connect_pathao(
    *,
    name: str,
    client_id: str,
    client_secret: str,
    username: str,
    password: str,
    store_id: str,
    webhook_secret: str,
    areas: Iterable[str] = (),
    sandbox: bool = False,
    actor: Actor,
    sleep: Callable[[float], None] | None = None,
) -> CourierAccount:
    """Connect Pathao: the merchant's login is exchanged for tokens (outside any transaction: it is
    a request to Pathao), then the tokens are stored. The password goes to Pathao once and is
    neither stored nor returned."""
    _require_manage(actor)
    missing = [
        FieldError(field, "Required.")
        for field, value in {
            "client_id": client_id,
            "client_secret": client_secret,
            "username": username,
            "password": password,
            "store_id": store_id,
            "webhook_secret": webhook_secret,
            "name": name,
        }.items()
        if not value.strip()
    ]
    if missing:
        raise ValidationFailed("Pathao needs its client, the merchant's login and the store.", errors=missing)
    try:
        tokens = pathao_issue_token(
            PATHAO_SANDBOX_URL if sandbox else PATHAO_BASE_URL,
            client_id.strip(),
            client_secret.strip(),
            username.strip(),
            password,
            organization_id=0,  # AES's own login: no partner's data leaves
            **({"sleep": sleep} if sleep is not None else {}),
        )
    except CourierError as error:
        raise _connection_refused(error, fields=("username", "password")) from error
    with transaction.atomic(durable=True):
        account = courier_account_create(
            code="pathao",
            name=name,
            credentials={**tokens, "store_id": store_id, "webhook_secret": webhook_secret},
            areas=areas,
            sandbox=sandbox,
            actor=actor,
        )
        courier_account_succeeded(account_id=account.pk)
    return account


def _connection_refused(error: CourierError, *, fields: tuple[str, ...]) -> Exception:
    """A courier refusing the connection details is the form's error, on the fields it is about;
    one that could not be reached stays a `CourierError` (502): nothing is wrong with the input."""
    if error.remote_status is None or error.remote_status >= 500 or error.remote_status in (408, 429):
        return error
    errors = [FieldError(field, "The courier refused these details.") for field in fields]
    return ValidationFailed(error.detail, errors=errors, courier=error.courier)


def courier_account_connect_steadfast(
    *,
    name: str,
    api_key: str,
    secret_key: str,
    webhook_token: str,
    areas: Iterable[str] = (),
    actor: Actor,
    sleep: Callable[[float], None] | None = None,
) -> CourierAccount:
    """Connect Steadfast: its keys are tried first (its balance is asked for, outside any
    transaction), so keys Steadfast refuses store nothing; then they are sealed and stored."""
    _require_manage(actor)
    credentials = {"api_key": api_key, "secret_key": secret_key, "webhook_token": webhook_token}
    missing = [FieldError(field, "Required.") for field, value in credentials.items() if not value.strip()]
    if not name.strip():
        missing.append(FieldError("name", "Give the account a name."))
    if missing:
        raise ValidationFailed("Steadfast needs its API key, secret key and webhook token.", errors=missing)
    keys = {"api_key": api_key.strip(), "secret_key": secret_key.strip()}
    adapter = (
        SteadfastAdapter(keys, organization_id=0, sleep=sleep)
        if sleep is not None
        else SteadfastAdapter(keys, organization_id=0)
    )
    try:
        adapter.balance()
    except CourierError as error:
        raise _connection_refused(error, fields=("api_key", "secret_key")) from error
    finally:
        adapter.close()
    with transaction.atomic(durable=True):
        account = courier_account_create(code="steadfast", name=name, credentials=credentials, areas=areas, actor=actor)
        courier_account_succeeded(account_id=account.pk)
    return account


def courier_account_connect(
    *,
    code: str,
    name: str,
    credentials: Mapping[str, str],
    areas: Iterable[str] = (),
    sandbox: bool = False,
    actor: Actor,
) -> CourierAccount:
    """Connect an account with the courier's own check of its details (the console's and the API's
    door): Pathao's login exchanged for tokens, Steadfast's keys tried. Entry point: it opens its own
    transactions, after the request to the courier."""
    _require_manage(actor)
    given = {name: str(value) for name, value in credentials.items()}
    allowed = CONNECT_FIELDS.get(code)
    if allowed is None:
        raise ValidationFailed(
            "No courier adapter for this carrier.",
            errors=[FieldError("code", f"One of {', '.join(sorted(CONNECT_FIELDS))}.")],
        )
    unknown = [FieldError(field, "Not a detail this courier takes.") for field in given if field not in allowed]
    if unknown:
        raise ValidationFailed("The courier account is not complete.", errors=unknown)
    values = {field: given.get(field, "") for field in allowed}
    if code == "pathao":
        return courier_account_connect_pathao(
            name=name,
            client_id=values["client_id"],
            client_secret=values["client_secret"],
            username=values["username"],
            password=values["password"],
            store_id=values["store_id"],
            webhook_secret=values["webhook_secret"],
            areas=areas,
            sandbox=sandbox,
            actor=actor,
        )
    return courier_account_connect_steadfast(
        name=name,
        api_key=values["api_key"],
        secret_key=values["secret_key"],
        webhook_token=values["webhook_token"],
        areas=areas,
        actor=actor,
    )


@transaction.atomic(savepoint=False)
def courier_account_credentials_store(*, account_id: int, credentials: Mapping[str, str]) -> None:
    """Keep the tokens an adapter refreshed (Pathao rotates both), sealed like the rest; what the
    adapter holds besides its stored credentials (nothing, today) is not kept."""
    account = CourierAccount.objects.select_for_update().get(pk=account_id)
    known = {*CREDENTIAL_NAMES[account.code], WEBHOOK_SECRET[account.code]}
    changed = {name: value for name, value in credentials.items() if name in known and value}
    tokens, hints = _sealed(account.code, changed)
    account.credentials = {**account.credentials, **tokens}
    account.credential_hints = {**account.credential_hints, **hints}
    account.save(update_fields=["credentials", "credential_hints", "updated_at"])


@transaction.atomic(savepoint=False)
def courier_account_rotate_webhook_secret(*, account: CourierAccount, secret: str = "", actor: Actor) -> str:
    """Take a new webhook secret (a fresh one when none is given, for the courier's panel); the
    previous one is accepted for a day while the panel is changed. Returns the new secret."""
    _require_manage(actor)
    account = CourierAccount.objects.select_for_update().get(pk=account.pk)
    name = WEBHOOK_SECRET[account.code]
    secret = secret.strip() or secrets.token_urlsafe(32)
    values = {name: secret}
    current = account.credentials_open().get(name, "")
    if current:
        values[f"previous_{name}"] = current  # sealed for the previous name's own purpose
    tokens, hints = _sealed(account.code, values)
    account.credentials = {**account.credentials, **tokens}
    account.credential_hints = {**account.credential_hints, **hints}
    account.previous_secret_until = timezone.now() + SECRET_ROTATION_GRACE
    account.save(update_fields=["credentials", "credential_hints", "previous_secret_until", "updated_at"])
    audit_record(action="courier.webhook_secret_rotated", actor=actor, target=account)
    return secret


def access_courier_account(actor: Actor, account_id: int, *, for_update: bool) -> CourierAccount:
    """A connected (not disconnected) account, for AES dispatch; any other id is NotFound."""
    _require_manage(actor)
    accounts = CourierAccount.objects.filter(disconnected_at__isnull=True)
    if for_update:
        accounts = accounts.select_for_update(no_key=True)
    account = accounts.filter(pk=account_id).first()
    if account is None:
        raise NotFound("No such courier account.")
    return account


def courier_accounts_visible_to(actor: Actor) -> list[CourierAccount]:
    """Every connected account, by courier and name."""
    _require_manage(actor)
    return list(CourierAccount.objects.filter(disconnected_at__isnull=True))


@transaction.atomic(savepoint=False)
def courier_account_update(
    *, account: CourierAccount, actor: Actor, areas: Iterable[str] | None = None, is_active: bool | None = None
) -> CourierAccount:
    """Change the areas an account serves, or pause (no new bookings go through it; its parcels
    already booked are still tracked) and resume it. Audited with the old and new values."""
    account = access_courier_account(actor, account.pk, for_update=True)
    changes: dict[str, Any] = {}
    if areas is not None:
        new_areas = _areas(areas)
        if any(len(area) > 100 for area in new_areas):
            raise ValidationFailed(
                "The areas are not valid.", errors=[FieldError("areas", "An area name is at most 100 characters.")]
            )
        if new_areas != account.areas:
            changes["areas"] = {"old": account.areas, "new": new_areas}
            account.areas = new_areas
    if is_active is not None and is_active != account.is_active:
        changes["is_active"] = {"old": account.is_active, "new": is_active}
        account.is_active = is_active
    if changes:
        account.save(update_fields=["areas", "is_active", "updated_at"])
        audit_record(action="courier.account_updated", actor=actor, target=account, changes=changes)
    return account


@transaction.atomic(savepoint=False)
def courier_account_disconnect(*, account: CourierAccount, actor: Actor) -> CourierAccount:
    """Disconnect an account: its sealed credentials are wiped, so nothing more is booked, tracked
    or accepted through it; the row stays for the consignments it booked. Disconnecting twice is
    NotFound the second time (the account is no longer listed)."""
    account = access_courier_account(actor, account.pk, for_update=True)
    account.credentials, account.credential_hints = {}, {}
    account.is_active = False
    account.previous_secret_until = None
    account.disconnected_at = timezone.now()
    account.save()
    audit_record(action="courier.account_disconnected", actor=actor, target=account)
    return account


@transaction.atomic(savepoint=False)
def courier_account_succeeded(*, account_id: int) -> None:
    """Note that the courier just answered a request made with this account."""
    CourierAccount.objects.filter(pk=account_id).update(last_success_at=timezone.now())


# Using an account -----------------------------------------------------------------------------


def courier_account_for(code: str, *places: str) -> CourierAccount | None:
    """The active account that takes parcels to these places: one naming the area or city first,
    else one serving everywhere."""
    accounts = list(CourierAccount.objects.filter(code=code, is_active=True))
    named = [account for account in accounts if account.areas and account.serves(*places)]
    return next(iter(named), None) or next((account for account in accounts if not account.areas), None)


def courier_adapter(
    account: CourierAccount, *, organization_id: int, sleep: Callable[[float], None] | None = None
) -> CourierAdapter:
    """The account's adapter, acting for the organization whose parcels these are (the sharing
    register); tokens it refreshes are stored back on the account."""
    return adapter_for(
        account.code,
        account.credentials_open(),
        organization_id=organization_id,
        sandbox=account.sandbox,
        on_credentials_changed=partial(_credentials_changed, account.pk),
        **({"sleep": sleep} if sleep is not None else {}),
    )


def _credentials_changed(account_id: int, credentials: dict[str, str]) -> None:
    courier_account_credentials_store(account_id=account_id, credentials=credentials)


@transaction.atomic(savepoint=False)
def courier_consignment_record(*, account: CourierAccount, booking: Booking, reference: str) -> CourierConsignment:
    """Remember which account booked a consignment (the poll and the label ask that account)."""
    consignment, _ = CourierConsignment.objects.get_or_create(
        account=account,
        consignment_id=booking.consignment_id,
        defaults={
            "tracking_code": booking.tracking_code,
            "reference": reference,
            "delivery_fee": booking.delivery_fee,
        },
    )
    return consignment


def courier_consignment_of(code: str, consignment_id: str) -> CourierConsignment | None:
    return (
        CourierConsignment.objects.select_related("account")
        .filter(account__code=code, consignment_id=consignment_id)
        .first()
    )


# Webhooks ---------------------------------------------------------------------------------------


def event_as_json(event: CourierEvent) -> dict[str, Any]:
    values = asdict(event)
    values["status"] = event.status.value if event.status is not None else None
    values["occurred_at"] = event.occurred_at.isoformat()
    values["cod_collected"] = str(event.cod_collected) if event.cod_collected is not None else None
    return values


def event_from_json(values: Mapping[str, Any]) -> CourierEvent:
    return CourierEvent(
        **{
            **values,
            "status": TrackingStatus(values["status"]) if values.get("status") else None,
            "occurred_at": datetime.fromisoformat(values["occurred_at"]),
            "cod_collected": Decimal(values["cod_collected"]) if values.get("cod_collected") is not None else None,
        }
    )


def courier_webhook_verify(
    *, code: str, headers: Mapping[str, str], body: bytes
) -> tuple[CourierAccount, list[CourierEvent], WebhookReply]:
    """The account whose secret the delivery carries, the events it brings and what to answer the
    courier. Every active account of the courier is tried (they share one address); none accepting
    it is `CourierWebhookRefused`."""
    # A paused account still hears about the parcels it booked; a disconnected one has no secret.
    for account in CourierAccount.objects.filter(code=code, disconnected_at__isnull=True).order_by("pk"):
        adapter = courier_adapter(account, organization_id=0)
        try:
            return account, adapter.parse_webhook(headers, body), adapter.webhook_reply()
        except CourierWebhookRefused:
            continue
        finally:
            adapter.close()
    raise CourierWebhookRefused(f"No {code} account accepts this delivery.")


@transaction.atomic(savepoint=False)
def courier_webhook_receive(*, account: CourierAccount, body: bytes, events: list[CourierEvent]) -> CourierWebhook:
    """Keep an authentic delivery raw, with the events read from it, for a task to apply."""
    return CourierWebhook.objects.create(
        account=account,
        body=body.decode("utf-8", errors="replace"),
        events=[event_as_json(event) for event in events],
    )


@transaction.atomic(savepoint=False)
def courier_webhook_finish(*, webhook_id: int, outcome: list[str], failed: str = "") -> None:
    """Record what became of a delivery's events (or why applying them failed)."""
    CourierWebhook.objects.filter(pk=webhook_id).update(
        attempts=F("attempts") + 1,
        status=CourierWebhookStatus.FAILED if failed else CourierWebhookStatus.PROCESSED,
        outcome=outcome,
        reason=failed[:2000],
        processed_at=timezone.now(),
    )
