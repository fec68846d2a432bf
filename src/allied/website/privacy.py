"""What the website keeps about people: the leads visitors send (kept while they are won, else
deleted a configurable time after their last change), the notes operators add to them, and who
last edited a page; and how one person's leads leave."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q

from allied.core.contact import phone_normalize
from allied.core.errors import ValidationFailed
from allied.core.privacy import (
    DELETE,
    HOSTED,
    DataSubject,
    PersonalField,
    declare_personal_data,
    kept_while,
    register_subject_handlers,
    staff_label,
)
from allied.website.models import Lead, LeadActivity, LeadStatus, Page
from allied.website.services import VISITOR_PHONE_COUNTRY

UNCONVERTED_LEAD = kept_while(
    "the lead is won",
    Q(status=LeadStatus.WON),
    then=timedelta(days=settings.ALLIED_LEAD_RETENTION_DAYS),
    counts_from="updated_at",
)
LEAD_HISTORY = kept_while(
    "its lead is won",
    Q(lead__status=LeadStatus.WON),
    then=timedelta(days=settings.ALLIED_LEAD_RETENTION_DAYS),
    counts_from="lead__updated_at",
)


def _contact(category: str) -> PersonalField:
    return PersonalField(
        category, "customer_contact", UNCONVERTED_LEAD, legal_basis="legitimate_interests", shared_with=HOSTED
    )


declare_personal_data(
    Lead,
    personal={
        "name": _contact("user.name"),
        "email": _contact("user.contact.email"),
        "phone": _contact("user.contact.phone_number"),
        "company": _contact("user.workplace"),
        "relationship": _contact("user.job_title"),
        "message": _contact("user.content"),
    },
    on_expiry=DELETE,
)
declare_personal_data(
    LeadActivity,
    personal={
        "note": PersonalField(
            "user.content", "customer_contact", LEAD_HISTORY, legal_basis="legitimate_interests", shared_with=HOSTED
        ),
        "actor_label": staff_label(LEAD_HISTORY),
    },
    on_expiry=DELETE,
)
declare_personal_data(Page, personal={}, not_personal={"updated_by": "the staff account that last edited the page"})

LEAD_PERSONAL_BLANK = {"name": "", "email": "", "phone": "", "company": "", "relationship": "", "message": ""}


def _subject_leads(subject: DataSubject) -> Any:
    match = Q(email__iexact=subject.email) if subject.email else Q(pk__in=[])
    if subject.phone:
        try:
            phone = phone_normalize(subject.phone, default_country=VISITOR_PHONE_COUNTRY, field="phone")
        except ValidationFailed:
            phone = subject.phone.strip()
        match |= Q(phone=phone)
    return Lead.objects.filter(match)


def export_leads(subject: DataSubject) -> dict[str, Any]:
    leads = _subject_leads(subject).prefetch_related("activities").order_by("created_at")
    return {
        "leads": [
            {
                "kind": lead.kind,
                "name": lead.name,
                "email": lead.email,
                "phone": lead.phone,
                "company": lead.company,
                "relationship": lead.relationship,
                "service": lead.service,
                "message": lead.message,
                "contact_preference": lead.contact_preference,
                "status": lead.status,
                "sent_at": lead.created_at.isoformat(),
                "history": [
                    {"at": a.at.isoformat(), "from": a.from_status, "to": a.to_status}
                    for a in lead.activities.all()
                    if a.to_status
                ],
            }
            for lead in leads
        ]
    }


def erase_leads(subject: DataSubject) -> int:
    """Blank the person's details, message and the notes about them; the lead's kind, service,
    status and dates stay, so the pipeline's counts do not change. Erasing twice finds nothing."""
    ids = list(_subject_leads(subject).values_list("pk", flat=True))
    LeadActivity.objects.filter(lead_id__in=ids).exclude(note="").update(note="")
    return Lead.objects.filter(pk__in=ids).update(**LEAD_PERSONAL_BLANK)


register_subject_handlers("leads", export=export_leads, erase=erase_leads)
