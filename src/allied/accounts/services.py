"""Every write to accounts data. Each service is one transaction and records its audit row."""

import datetime
import secrets
from functools import partial

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from allied.accounts.models import ApiKey, ContactPreference, Invitation, Membership, Organization, User
from allied.accounts.policy import API_KEYS_MANAGE, ORGANIZATIONS_MANAGE, Actor, can_manage_team_of, require
from allied.accounts.roles import OPERATOR_SCOPES, ROLES_BY_KIND, ApiScope, OrganizationKind
from allied.accounts.selectors import API_KEY_PREFIX, hash_secret, invitation_by_token
from allied.core.audit import NamedActor, audit_record
from allied.core.contact import country_check, email_check, phone_normalize
from allied.core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed


def _check_role_fits(organization: Organization, role: str) -> None:
    if role not in ROLES_BY_KIND[OrganizationKind(organization.kind)]:
        raise ValidationFailed(
            f"{role!r} is not a role in a {organization.get_kind_display()} organization.",
            errors=[FieldError("role", "Choose a role that fits this organization.")],
        )


@transaction.atomic(savepoint=False)
def organization_create(*, name: str, slug: str, kind: str, actor: Actor, default_country: str = "PK") -> Organization:
    """Add an organization (AES administrators only) under a short name no other organization uses;
    `default_country` is where its customers' phone numbers are read (core/contact.py). Audited."""
    require(actor, ORGANIZATIONS_MANAGE)
    default_country = country_check(default_country, field="default_country")
    if Organization.objects.filter(slug=slug).exists():
        raise Conflict(
            "That short name is taken.", errors=[FieldError("slug", "Already used by another organization.")]
        )
    organization = Organization.objects.create(name=name, slug=slug, kind=kind, default_country=default_country)
    audit_record(action="organization.created", actor=actor, organization=organization, target=organization)
    return organization


@transaction.atomic(savepoint=False)
def user_create_member(
    *, email: str, password: str | None, full_name: str, organization: Organization, role: str, actor: Actor
) -> Membership:
    """Create a person with a verified address and a role (commands and the demo; people use invitations)."""
    _check_role_fits(organization, role)
    email = email_check(email, field="email").lower()
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict("A user with that e-mail address exists.", errors=[FieldError("email", "Already registered.")])
    user = User.objects.create_user(email, password, full_name=full_name)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    membership = Membership.objects.create(user=user, organization=organization, role=role)
    audit_record(
        action="membership.created", actor=actor, organization=organization, target=membership, changes={"role": role}
    )
    return membership


@transaction.atomic(savepoint=False)
def invitation_create(*, organization: Organization, email: str, role: str, actor: Actor) -> tuple[Invitation, str]:
    """Invite someone by e-mail. Returns the invitation and its token; only the token's hash is stored."""
    if not can_manage_team_of(actor, organization):
        raise PermissionDenied("Only owners and AES administrators can invite people.")
    _check_role_fits(organization, role)
    email = email_check(email, field="email").lower()
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise Conflict(f"{email} is already a member.", errors=[FieldError("email", "Already a member.")])
    Invitation.objects.filter(
        organization=organization, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        token_hash=hash_secret(token),
        invited_by=actor.user,
        expires_at=timezone.now() + datetime.timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    audit_record(
        action="invitation.created", actor=actor, organization=organization, target=invitation, changes={"role": role}
    )
    from allied.accounts.tasks import send_invitation_email

    transaction.on_commit(partial(send_invitation_email.enqueue, invitation.pk, token))
    return invitation, token


@transaction.atomic(savepoint=False)
def invitation_revoke(*, invitation: Invitation, actor: Actor) -> Invitation:
    """Make a pending invitation unusable (owners and AES administrators). Revoking one that is already
    revoked or accepted changes nothing and records nothing."""
    if not can_manage_team_of(actor, invitation.organization):
        raise PermissionDenied("Only owners and AES administrators can revoke invitations.")
    if invitation.revoked_at is None and invitation.accepted_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(action="invitation.revoked", actor=actor, organization=invitation.organization, target=invitation)
    return invitation


@transaction.atomic(savepoint=False)
def invitation_accept(*, token: str, full_name: str, password: str) -> Membership:
    """Turn a pending invitation into a member. An existing account just gains the membership."""
    invitation = invitation_by_token(token)
    if invitation is None:
        raise NotFound("This invitation link is not valid any more. Ask for a new one.")
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        raise Conflict("This invitation has already been used.")
    user = User.objects.filter(email__iexact=invitation.email).first()
    if user is None:
        user = User(email=invitation.email, full_name=full_name.strip())
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationFailed(
                "Choose a stronger password.", errors=[FieldError("password", message) for message in error.messages]
            ) from None
        user.set_password(password)
        user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=invitation.email, defaults={"verified": True, "primary": True}
    )
    membership, _ = Membership.objects.get_or_create(
        user=user, organization=invitation.organization, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    member = Actor(user=user, organization=membership.organization, role=membership.role)
    audit_record(action="invitation.accepted", actor=member, organization=invitation.organization, target=invitation)
    return membership


@transaction.atomic(savepoint=False)
def membership_change_role(*, membership: Membership, role: str, actor: Actor) -> Membership:
    """Give a member another role that fits the kind of organization (owners and AES administrators);
    nobody changes their own role. Old and new roles are audited; the same role records nothing."""
    if not can_manage_team_of(actor, membership.organization):
        raise PermissionDenied("Only owners and AES administrators can change roles.")
    _check_role_fits(membership.organization, role)
    if membership.user_id == getattr(actor.user, "pk", None):
        raise Conflict("You cannot change your own role; ask another administrator.")
    old_role = membership.role
    if old_role == role:
        return membership
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        action="membership.role_changed",
        actor=actor,
        organization=membership.organization,
        target=membership,
        changes={"role": [old_role, role]},
    )
    return membership


@transaction.atomic(savepoint=False)
def membership_remove(*, membership: Membership, actor: Actor) -> None:
    """Take a person out of an organization (owners and AES administrators); nobody removes themselves.
    The account stays; the audit row keeps who was removed and with which role."""
    if not can_manage_team_of(actor, membership.organization):
        raise PermissionDenied("Only owners and AES administrators can remove members.")
    if membership.user_id == getattr(actor.user, "pk", None):
        raise Conflict("You cannot remove yourself.")
    audit_record(
        action="membership.removed",
        actor=actor,
        organization=membership.organization,
        target=membership,
        changes={"user": membership.user.email, "role": membership.role},
    )
    membership.delete()


@transaction.atomic(savepoint=False)
def api_key_create(*, organization: Organization, name: str, scopes: list[str], actor: Actor) -> tuple[ApiKey, str]:
    """Create a key; the secret is returned once and never stored (only its SHA-256)."""
    require(actor, API_KEYS_MANAGE)
    if not actor.is_operator and actor.organization != organization:
        raise NotFound("No such organization.")
    unknown = sorted(set(scopes) - set(ApiScope.values))
    errors = []
    if unknown:
        errors.append(FieldError("scopes", f"Unknown scopes: {', '.join(unknown)}."))
    elif organization.is_operator and not set(scopes) <= OPERATOR_SCOPES:
        errors.append(FieldError("scopes", f"A key of AES holds only {', '.join(sorted(OPERATOR_SCOPES))}."))
    elif not organization.is_operator and set(scopes) & OPERATOR_SCOPES:
        errors.append(FieldError("scopes", f"Only AES's own keys hold {', '.join(sorted(OPERATOR_SCOPES))}."))
    if not scopes:
        errors.append(FieldError("scopes", "Choose at least one scope."))
    if not name.strip():
        errors.append(FieldError("name", "Give the key a name, such as the application that will use it."))
    if errors:
        raise ValidationFailed("The API key cannot be created.", errors=errors)
    prefix = secrets.token_hex(4)
    raw_key = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(30)}"
    api_key = ApiKey.objects.create(
        organization=organization,
        name=name.strip(),
        prefix=prefix,
        key_hash=hash_secret(raw_key),
        scopes=sorted(set(scopes)),
        created_by=actor.user,
    )
    audit_record(
        action="api_key.created",
        actor=actor,
        organization=organization,
        target=api_key,
        changes={"scopes": api_key.scopes},
    )
    return api_key, raw_key


@transaction.atomic(savepoint=False)
def api_key_revoke(*, api_key: ApiKey, actor: Actor) -> ApiKey:
    """Refuse the key from now on; revoking twice changes nothing and records nothing."""
    require(actor, API_KEYS_MANAGE)
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(action="api_key.revoked", actor=actor, organization=api_key.organization, target=api_key)
    return api_key


def api_key_record_use(*, api_key: ApiKey) -> None:
    """Record last use at most once a minute, so busy integrations do not write on every call."""
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > datetime.timedelta(minutes=1):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


@transaction.atomic(savepoint=False)
def user_profile_update(
    *,
    user: User,
    full_name: str,
    phone: str,
    language: str,
    notify_by_email: bool,
    notify_by_sms: bool,
    actor: Actor,
    contact_preference: str = "email",
) -> User:
    """People change only their own name, phone, language (one of the offered ones), how they like
    to be contacted and their notification choices."""
    if actor.user is None or actor.user.pk != user.pk:
        raise PermissionDenied("People edit only their own profile.")
    if language not in dict(settings.LANGUAGES):
        raise ValidationFailed(
            "Unknown language.", errors=[FieldError("language", "Choose one of the listed languages.")]
        )
    user.full_name = full_name.strip()
    country = actor.organization.default_country if actor.organization is not None else "PK"
    user.phone = phone_normalize(phone, default_country=country, field="phone") if phone.strip() else ""
    user.language = language
    user.notify_by_email = notify_by_email
    user.notify_by_sms = notify_by_sms
    if contact_preference not in ContactPreference.values:
        raise ValidationFailed(
            "Unknown contact preference.",
            errors=[FieldError("contact_preference", "Choose e-mail, a phone call or a text message.")],
        )
    user.contact_preference = contact_preference
    user.save(
        update_fields=["full_name", "phone", "language", "notify_by_email", "notify_by_sms", "contact_preference"]
    )
    return user


def security_event_record(*, action: str, user: User | None, label: str = "", changes: dict | None = None) -> None:
    """Sign-in, failed sign-in and MFA changes: audit rows written by the authentication hooks."""
    if user is None or user.pk is None:
        audit_record(action=action, actor=NamedActor(label=label), changes=changes)
        return
    membership = Membership.objects.filter(user=user).select_related("organization").first()
    audit_record(
        action=action,
        actor=NamedActor(label=user.email, user=user),
        organization=membership.organization if membership else None,
        changes=changes,
    )
