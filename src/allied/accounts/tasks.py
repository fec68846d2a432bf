from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse

from allied.accounts.models import Invitation
from allied.core.tasks import retrying


@retrying(max_attempts=5, base_delay=30)
@task
def send_invitation_email(invitation_id: int, token: str) -> bool:
    """Mail the invitation link. Skips invitations that were revoked or accepted meanwhile."""
    with transaction.atomic(durable=True):
        invitation = Invitation.objects.select_related("organization", "invited_by").filter(pk=invitation_id).first()
        if invitation is None or not invitation.is_pending:
            return False
    context = {
        "invitation": invitation,
        "accept_url": f"{settings.ALLIED_BASE_URL}{reverse('invitation_accept', args=[token])}",
    }
    send_mail(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}Join {invitation.organization.name} on Allied",
        message=render_to_string("accounts/email/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )
    return True
