"""What accounts keep about people, why, for how long, and how one person's data leaves."""

from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.db import transaction
from django.utils import timezone

from allied.accounts.models import ApiKey, Invitation, Membership, Organization, User
from allied.core.privacy import DataSubject, PersonalField, declare_personal_data, register_subject_handlers

WHILE_ACCOUNT_ACTIVE = "while the account is active; erased on request or when the account is closed"

declare_personal_data(
    User,
    personal={
        "email": PersonalField("user.contact.email", "account_access", WHILE_ACCOUNT_ACTIVE),
        "full_name": PersonalField("user.name", "account_access", WHILE_ACCOUNT_ACTIVE),
        "phone": PersonalField("user.contact.phone_number", "account_access", WHILE_ACCOUNT_ACTIVE),
        "password": PersonalField("user.authorization.credentials", "account_access", WHILE_ACCOUNT_ACTIVE),
        "language": PersonalField("user.account.settings", "preferences", WHILE_ACCOUNT_ACTIVE),
        "notify_by_email": PersonalField("user.account.settings", "preferences", WHILE_ACCOUNT_ACTIVE),
        "notify_by_sms": PersonalField("user.account.settings", "preferences", WHILE_ACCOUNT_ACTIVE),
        "last_login": PersonalField("user.behavior.browsing_history", "security", WHILE_ACCOUNT_ACTIVE),
    },
)
declare_personal_data(
    Invitation,
    personal={"email": PersonalField("user.contact.email", "account_access", "until accepted, revoked or expired")},
)
declare_personal_data(Organization, personal={}, not_personal={"name": "a company's name (company information)"})
declare_personal_data(ApiKey, personal={}, not_personal={"name": "the name of a partner's application"})


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
    user = User.objects.filter(pk=subject.user_id).first() if subject.user_id else None
    if user is None:
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


register_subject_handlers("accounts", export=export_account, erase=erase_account)
