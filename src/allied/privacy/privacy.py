"""What the privacy engine itself keeps about people: acknowledgements of the notice and cookie
choices (the records that prove consent), and how one person's records leave."""

from datetime import timedelta
from typing import Any

from allied.core.privacy import (
    HOSTED,
    DataSubject,
    PersonalField,
    declare_personal_data,
    kept_for,
    register_subject_handlers,
)
from allied.privacy.models import ConsentRecord, NoticeAcknowledgement, NoticeVersion

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
