from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string

from allied.core.tasks import retrying
from allied.website.models import Lead


@retrying(max_attempts=5, base_delay=30)
@task
def send_lead_acknowledgement(lead_id: int) -> bool:
    """Tell the visitor their message arrived and how AES will answer. Skips a lead erased meanwhile."""
    with transaction.atomic(durable=True):
        lead = Lead.objects.filter(pk=lead_id).first()
        if lead is None or not lead.email:
            return False
    send_mail(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}We received your message",
        message=render_to_string("website/email/acknowledgement.txt", {"lead": lead}),
        from_email=None,
        recipient_list=[lead.email],
    )
    return True
