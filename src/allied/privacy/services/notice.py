"""The privacy notice as data: generated from every app's declarations plus the operators' text,
and versioned. A version is published whenever the text, the data map or a setting the notice
states changes; the history is kept, and signed-in users acknowledge what changed."""

import hashlib
import json
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from allied.accounts.policy import PRIVACY_MANAGE, Actor, require
from allied.core.audit import audit_record
from allied.core.errors import DomainError
from allied.core.privacy import data_map
from allied.privacy.models import NoticeAcknowledgement, NoticeVersion

# The operators' opening text for a first version: who AES is and how to reach the privacy officer.
FIRST_TEXT = """\
Allied E-Commerce Solutions (AES) runs warehouses, fulfilment and last-mile delivery for brand
partners, and this website. This notice explains which personal data we hold, why, for how
long, and who else may receive it. The sections below are generated from the records of
processing our systems keep, so they always describe what the software actually does.

Questions about your data go to our privacy officer at privacy@allied.example.
"""


class NoticeTextInvalid(DomainError):
    code = "notice_text_invalid"
    status = 422


def notice_settings() -> dict[str, Any]:
    """The settings the notice states as facts."""
    return {"honours_do_not_track": settings.ALLIED_HONOUR_DNT, "request_days": settings.ALLIED_PRIVACY_REQUEST_DAYS}


def _map_now() -> list[dict[str, Any]]:
    return [asdict(entry) | {"shared_with": list(entry.shared_with)} for entry in data_map()]


def _digest(text: str, entries: list[dict[str, Any]], notice_settings_now: dict[str, Any]) -> str:
    body = json.dumps({"text": text, "map": entries, "settings": notice_settings_now}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def _changes(before: NoticeVersion | None, text: str, entries: list[dict[str, Any]], now: dict[str, Any]) -> str:
    if before is None:
        return "First published version."
    keyed_before = {(e["model_label"], e["field"]): e for e in before.data_map}
    keyed_now = {(e["model_label"], e["field"]): e for e in entries}
    lines = []
    for key in sorted(keyed_now.keys() - keyed_before.keys()):
        entry = keyed_now[key]
        lines.append(f"New: {entry['category']} kept for {entry['purpose'].replace('_', ' ')} ({entry['retention']}).")
    for key in sorted(keyed_before.keys() - keyed_now.keys()):
        lines.append(f"No longer kept: {keyed_before[key]['category']} in {key[0]}.")
    for key in sorted(keyed_now.keys() & keyed_before.keys()):
        old, new = keyed_before[key], keyed_now[key]
        for aspect in ("purpose", "legal_basis", "retention", "shared_with", "category"):
            if old[aspect] != new[aspect]:
                aspect_words = aspect.replace("_", " ")
                lines.append(f"{new['category']}: {aspect_words} changed from {old[aspect]} to {new[aspect]}.")
    for name, value in now.items():
        if before.settings_snapshot.get(name) != value:
            lines.append(f"Setting {name.replace('_', ' ')} is now {value}.")
    if text != before.text:
        lines.append("The introduction and contact text were revised.")
    return "\n".join(dict.fromkeys(lines)) or "No change."


@transaction.atomic(savepoint=False)
def _publish(text: str, published_by: str) -> NoticeVersion:
    entries, now = _map_now(), notice_settings()
    digest = _digest(text, entries, now)
    latest = NoticeVersion.objects.select_for_update().order_by("-number").first()
    if latest is not None and latest.digest == digest:
        return latest
    return NoticeVersion.objects.create(
        number=(latest.number + 1) if latest else 1,
        text=text,
        data_map=entries,
        settings_snapshot=now,
        digest=digest,
        change_summary=_changes(latest, text, entries, now),
        published_by=published_by,
    )


def notice_refresh() -> NoticeVersion:
    """Publish a new version if the data map or a stated setting changed since the last one;
    run after every migration and daily, so a deploy that changes what is kept updates the notice."""
    latest = NoticeVersion.objects.order_by("-number").first()
    try:
        with transaction.atomic():
            return _publish(latest.text if latest else FIRST_TEXT, "the records of processing changed")
    except IntegrityError:  # another process published the same version at the same moment
        return NoticeVersion.objects.order_by("-number").first() or notice_refresh()


@transaction.atomic(savepoint=False)
def notice_text_publish(*, text: str, actor: Actor) -> NoticeVersion:
    """The privacy officer rewrites the operators' text; a new version is published if anything changed."""
    require(actor, PRIVACY_MANAGE)
    text = text.strip().replace("\r\n", "\n") + "\n"
    if len(text.strip()) < 40:
        raise NoticeTextInvalid("The notice's text needs at least a sentence or two (40 characters).")
    if len(text) > 20_000:
        raise NoticeTextInvalid("The notice's text is limited to 20,000 characters.")
    before = NoticeVersion.objects.order_by("-number").first()
    version = _publish(text, actor.user.email if actor.user else "")
    if before is None or version.pk != before.pk:
        audit_record(action="privacy.notice_published", actor=actor, target=version, changes={"number": version.number})
    return version


@transaction.atomic(savepoint=False)
def notice_acknowledge(*, user_id: int, version: NoticeVersion) -> None:
    """Record that a signed-in user has seen this version (and so every earlier one); idempotent."""
    NoticeAcknowledgement.objects.get_or_create(user_id=user_id, version=version)
