"""What the privacy engine itself keeps about people: acknowledgements of the notice and cookie
choices (the records that prove consent), and how one person's records leave."""

from datetime import timedelta
from typing import Any

from django.db.models import Q

from allied.core.privacy import (
    DELETE,
    HOSTED,
    DataSubject,
    PersonalField,
    declare_personal_data,
    kept_for,
    kept_while,
    register_subject_handlers,
    staff_trail,
)
from allied.privacy.models import (
    ConsentRecord,
    DataSubjectRequest,
    NoticeAcknowledgement,
    NoticeVersion,
    RetentionRun,
)

# Proof of a choice is kept as long as a regulator may ask for it: three years after it was made.
CONSENT_PROOF = kept_for(timedelta(days=3 * 365), counts_from="at")

declare_personal_data(
    NoticeVersion,
    personal={},
    not_personal={
        "data_map": "field names, categories and purposes: the map of personal data, not data",
        "settings_snapshot": "the notice's settings (whether Do Not Track is honoured)",
        "published_by": "a staff e-mail or the words 'the data map changed'",
    },
)
declare_personal_data(NoticeAcknowledgement, personal={})
declare_personal_data(
    ConsentRecord,
    personal={
        "anonymous_id": PersonalField(
            "user.device.cookie_id", "security", CONSENT_PROOF, legal_basis="legal_obligation", shared_with=HOSTED
        ),
    },
    on_expiry=DELETE,
)

# A request is evidence that a person's rights were honoured: kept three years after it is closed.
REQUEST_EVIDENCE = kept_while(
    "the request is open",
    Q(status__in=[DataSubjectRequest.Status.UNVERIFIED, DataSubjectRequest.Status.OPEN]),
    then=timedelta(days=3 * 365),
    counts_from=("completed_at", "received_at"),
)


def _request(category: str) -> PersonalField:
    return PersonalField(category, "security", REQUEST_EVIDENCE, legal_basis="legal_obligation", shared_with=HOSTED)


declare_personal_data(
    DataSubjectRequest,
    personal={
        "email": _request("user.contact.email"),
        "phone": _request("user.contact.phone_number"),
        "details": _request("user.content"),
        "outcome": _request("user.content"),
        "handled_by": _request("user.contact.email"),
    },
    not_personal={
        "email_code_hash": "a one-way hash of a one-time code",
        "phone_code_hash": "a one-way hash of a one-time code",
        "result": "counts of rows exported or erased per app",
    },
)
declare_personal_data(
    RetentionRun,
    personal={"triggered_by": staff_trail("started_at")},
    not_personal={"results": "model and field names with counts of rows"},
)


def export_privacy_records(subject: DataSubject) -> dict[str, Any]:
    if subject.user_id is None:
        return {"notice_acknowledgements": [], "consent_records": []}
    acknowledgements = NoticeAcknowledgement.objects.filter(user_id=subject.user_id).select_related("version")
    consents = ConsentRecord.objects.filter(user_id=subject.user_id).select_related("notice_version")
    return {
        "notice_acknowledgements": [
            {"version": a.version.number, "at": a.at.isoformat()} for a in acknowledgements.order_by("at")
        ],
        "consent_records": [
            {
                "at": c.at.isoformat(),
                "preferences": c.preferences,
                "analytics": c.analytics,
                "notice_version": c.notice_version.number,
                "source": c.source,
            }
            for c in consents.order_by("at")
        ],
    }


def erase_privacy_records(subject: DataSubject) -> int:
    """Consent records stay as proof of what was chosen, no longer tied to the person."""
    if subject.user_id is None:
        return 0
    return ConsentRecord.objects.filter(user_id=subject.user_id).update(user=None)


register_subject_handlers("privacy", export=export_privacy_records, erase=erase_privacy_records)
