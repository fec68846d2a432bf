"""What accounts keep about people, why, for how long, and how one person's data leaves."""

from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from allied.accounts.models import ApiKey, Invitation, Membership, Organization, User
from allied.core.privacy import (
    HOSTED,
    DataSubject,
    PersonalField,
    declare_personal_data,
    kept_for,
    kept_while,
    register_subject_handlers,
)

# Kept while the account is active; a closed account is erased a month after its last use.
WHILE_ACCOUNT_ACTIVE = kept_while(
    "the account is active", Q(is_active=True), then=timedelta(days=30), counts_from=("last_login", "date_joined")
)


def _account(category: str, purpose: str = "account_access", basis: str = "contract") -> PersonalField:
    return PersonalField(category, purpose, WHILE_ACCOUNT_ACTIVE, legal_basis=basis, shared_with=HOSTED)


declare_personal_data(
    User,
    personal={
        "email": _account("user.contact.email"),
        "full_name": _account("user.name"),
        "phone": _account("user.contact.phone_number"),
        "password": _account("user.authorization.credentials"),
        "language": _account("user.account.settings", "preferences"),
        "notify_by_email": _account("user.account.settings", "preferences"),
        "notify_by_sms": _account("user.account.settings", "preferences"),
        "contact_preference": _account("user.account.settings", "preferences"),
        "last_login": _account("user.behavior.browsing_history", "security", "legitimate_interests"),
    },
)
declare_personal_data(
    Invitation,
    personal={
        # Until accepted, revoked or expired, then a month for questions about who was invited.
        "email": PersonalField(
            "user.contact.email",
            "account_access",
            kept_for(timedelta(days=30), counts_from=("accepted_at", "revoked_at", "expires_at")),
            legal_basis="legitimate_interests",
            shared_with=HOSTED,
        )
    },
)
declare_personal_data(Organization, personal={}, not_personal={"name": "a company's name (company information)"})
declare_personal_data(
    ApiKey,
    personal={},
    not_personal={"name": "the name of a partner's application", "scopes": "the permission names the key holds"},
)


def export_account(subject: DataSubject) -> dict[str, Any]:
    user = User.objects.filter(pk=subject.user_id).first() if subject.user_id else None
    invitations = Invitation.objects.filter(email__iexact=subject.email).select_related("organization")
    data: dict[str, Any] = {
        "invitations": [
            {"organization": i.organization.name, "role": i.role, "sent": i.created_at.isoformat()} for i in invitations
        ]
    }
    if user is None:
        return data
    data["profile"] = {
        "email": user.email,
        "full_name": user.full_name,
        "phone": user.phone,
        "language": user.language,
        "notify_by_email": user.notify_by_email,
        "notify_by_sms": user.notify_by_sms,
        "contact_preference": user.contact_preference,
        "joined": user.date_joined.isoformat(),
        "last_login": user.last_login.isoformat() if user.last_login else None,
    }
    data["memberships"] = [
        {"organization": m.organization.name, "role": m.role}
        for m in Membership.objects.filter(user=user).select_related("organization")
    ]
    return data


@transaction.atomic(savepoint=False)
def erase_account(subject: DataSubject) -> int:
    """Anonymise the account in place: rows other people rely on keep their shape, not the person."""
    erased = Invitation.objects.filter(email__iexact=subject.email, accepted_at__isnull=True).delete()[0]
    user = User.objects.filter(pk=subject.user_id, erased_at__isnull=True).first() if subject.user_id else None
    if user is None:  # no account, or erased already
        return erased
    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    Membership.objects.filter(user=user).delete()
    Invitation.objects.filter(email__iexact=user.email).update(email=f"erased-{user.pk}@erased.invalid")
    user.email = f"erased-{user.pk}@erased.invalid"
    user.full_name = ""
    user.phone = ""
    user.is_active = False
    user.erased_at = timezone.now()
    user.set_unusable_password()
    user.save()
    return erased + 1


def opt_out_account(subject: DataSubject) -> int:
    """No more notification e-mails or texts to the account holder."""
    if subject.user_id is None:
        return 0
    return User.objects.filter(pk=subject.user_id).update(notify_by_email=False, notify_by_sms=False)


register_subject_handlers("accounts", export=export_account, erase=erase_account, opt_out=opt_out_account)
