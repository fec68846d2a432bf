"""Reads of accounts data, always through the actor's tenant."""

import hashlib
import hmac
from typing import Any

from django.db.models import QuerySet

from allied.accounts.models import ApiKey, Invitation, Membership, Organization, User
from allied.accounts.policy import AUDIT_VIEW, ORGANIZATIONS_VIEW_ALL, Actor, actor_can, require
from allied.accounts.roles import OrganizationKind
from allied.core import sql
from allied.core.errors import NotFound
from allied.core.models import AuditEntry

API_KEY_PREFIX = "allied"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def memberships_of(user: User) -> QuerySet[Membership]:
    """A user's memberships, AES first, then partners by name."""
    return (
        Membership.objects.filter(user=user, organization__is_active=True)
        .select_related("organization")
        .order_by("organization__kind", "organization__name")
    )


def operator_organization() -> Organization:
    return Organization.objects.get(kind=OrganizationKind.OPERATOR)


def organizations_visible_to(actor: Actor) -> QuerySet[Organization]:
    if actor_can(actor, ORGANIZATIONS_VIEW_ALL):
        return Organization.objects.all()
    if actor.organization is None:
        return Organization.objects.none()
    return Organization.objects.filter(pk=actor.organization.pk)


def access_organization(actor: Actor, slug: str) -> Organization:
    try:
        return organizations_visible_to(actor).get(slug=slug)
    except Organization.DoesNotExist:
        raise NotFound("No such organization.") from None


def members_of(actor: Actor, organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.visible_to(actor).filter(organization=organization).select_related("user")


def access_membership(actor: Actor, membership_id: int, *, for_update: bool) -> Membership:
    queryset = Membership.objects.visible_to(actor).select_related("user", "organization")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    try:
        return queryset.get(pk=membership_id)
    except Membership.DoesNotExist:
        raise NotFound("No such member.") from None


def invitations_of(actor: Actor, organization: Organization) -> QuerySet[Invitation]:
    return Invitation.objects.visible_to(actor).filter(organization=organization).select_related("invited_by")


def access_invitation(actor: Actor, invitation_id: int, *, for_update: bool) -> Invitation:
    queryset = Invitation.objects.visible_to(actor)
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    try:
        return queryset.get(pk=invitation_id)
    except Invitation.DoesNotExist:
        raise NotFound("No such invitation.") from None


def invitation_by_token(token: str) -> Invitation | None:
    invitation = Invitation.objects.select_related("organization").filter(token_hash=hash_secret(token)).first()
    return invitation if invitation is not None and invitation.is_pending else None


def api_keys_of(actor: Actor, organization: Organization) -> QuerySet[ApiKey]:
    return ApiKey.objects.visible_to(actor).filter(organization=organization).select_related("created_by")


def access_api_key(actor: Actor, api_key_id: int, *, for_update: bool) -> ApiKey:
    queryset = ApiKey.objects.visible_to(actor).select_related("organization")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    try:
        return queryset.get(pk=api_key_id)
    except ApiKey.DoesNotExist:
        raise NotFound("No such API key.") from None


def api_key_matching(raw_key: str) -> ApiKey | None:
    """The active key a bearer token names, compared by hash; None for anything else."""
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        return None
    # Lean SQL (core/sql.py): every API call starts here, and compiling the ORM query cost more than running it.
    rows = sql.fetch(
        f"SELECT {', '.join('k.' + name for name in _KEY_COLUMNS)}, {', '.join('o.' + name for name in _ORG_COLUMNS)}"  # noqa: S608
        " FROM accounts_apikey k JOIN accounts_organization o ON o.id = k.organization_id"
        " WHERE k.prefix = %s AND k.revoked_at IS NULL AND o.is_active",
        [parts[1]],
    )
    if not rows or not hmac.compare_digest(rows[0][_KEY_HASH], hash_secret(raw_key)):
        return None
    api_key = sql.instance(ApiKey, _KEY_COLUMNS, rows[0][: len(_KEY_COLUMNS)])
    api_key.organization = sql.instance(Organization, _ORG_COLUMNS, rows[0][len(_KEY_COLUMNS) :])
    return api_key


_KEY_COLUMNS = ("id", "organization_id", "name", "prefix", "key_hash", "scopes", "last_used_at", "revoked_at")
_KEY_HASH = _KEY_COLUMNS.index("key_hash")
_ORG_COLUMNS = ("id", "name", "slug", "kind", "is_active", "default_country", "created_at")


def audit_entries_visible_to(actor: Actor, filters: dict[str, Any]) -> QuerySet[AuditEntry]:
    require(actor, AUDIT_VIEW)
    entries = AuditEntry.objects.select_related("organization", "actor")
    if not actor.is_operator:
        entries = entries.filter(organization=actor.organization)
    if filters.get("action"):
        entries = entries.filter(action__startswith=filters["action"])
    if filters.get("organization"):
        entries = entries.filter(organization__slug=filters["organization"])
    if filters.get("actor"):
        entries = entries.filter(actor_label__icontains=filters["actor"])
    if filters.get("since"):
        entries = entries.filter(at__date__gte=filters["since"])
    if filters.get("until"):
        entries = entries.filter(at__date__lte=filters["until"])
    return entries
