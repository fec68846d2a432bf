"""Recording cookie choices: each one is a new row, the proof of what this browser (and, when
signed in, this person) chose, under which notice, when and how."""

import uuid

from django.db import transaction

from allied.accounts.policy import Actor
from allied.core.errors import ValidationFailed
from allied.privacy.models import ConsentRecord
from allied.privacy.selectors import notice_current


class ConsentChoiceInvalid(ValidationFailed):
    code = "consent_choice_invalid"


@transaction.atomic(savepoint=False)
def consent_record(
    *,
    anonymous_id: uuid.UUID | None,
    preferences: bool,
    analytics: bool,
    source: str,
    actor: Actor,
) -> ConsentRecord:
    """Record one choice against the current notice version. A browser without an anonymous id
    gets a new one; a signed-in actor's user is recorded beside it. A privacy signal (GPC, DNT) is a
    refusal of every optional category, whatever is passed."""
    if source not in ConsentRecord.Source.values:
        raise ConsentChoiceInvalid(f"Unknown consent source {source!r}.")
    if source in (ConsentRecord.Source.GPC, ConsentRecord.Source.DNT):
        preferences = analytics = False
    user = actor.user if actor.user is not None and actor.user.is_authenticated else None
    return ConsentRecord.objects.create(
        anonymous_id=anonymous_id or uuid.uuid4(),
        user=user,
        preferences=preferences,
        analytics=analytics,
        notice_version=notice_current(),
        source=source,
    )
