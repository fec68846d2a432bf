"""Reads of the privacy engine's records."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count

from allied.privacy.models import ConsentRecord, NoticeAcknowledgement, NoticeVersion


def notice_current() -> NoticeVersion:
    """The latest published notice; the first is published on first need (a fresh database)."""
    latest = NoticeVersion.objects.order_by("-number").first()
    if latest is not None:
        return latest
    from allied.privacy.services.notice import notice_refresh

    return notice_refresh()


def notice_versions() -> list[NoticeVersion]:
    return list(NoticeVersion.objects.order_by("-number"))


def notice_unacknowledged(user_id: int) -> NoticeVersion | None:
    """The current notice if this user has not acknowledged it yet, else None."""
    current = notice_current()
    seen = NoticeAcknowledgement.objects.filter(user_id=user_id, version__number__gte=current.number).exists()
    return None if seen else current


CONSENT_CHOICES = ("accepted all", "refused all", "some categories")


@dataclass(frozen=True)
class ConsentStatistics:
    """Cookie choices recorded since a moment: how many, which answer, made how."""

    since: datetime
    total: int
    by_choice: dict[str, int]  # "accepted all", "refused all", "some categories"
    by_source: dict[str, int]  # every ConsentRecord.Source value, zero when unused


def consent_statistics(*, since: datetime) -> ConsentStatistics:
    """Counts of the choices recorded from `since` on (the dashboard asks for the last 30 days), in one query."""
    rows = (
        ConsentRecord.objects.filter(at__gte=since)
        .values("source", "preferences", "analytics")
        .annotate(count=Count("id"))
        .order_by()
    )
    by_choice = dict.fromkeys(CONSENT_CHOICES, 0)
    by_source = dict.fromkeys(ConsentRecord.Source.values, 0)
    for row in rows:
        if row["preferences"] and row["analytics"]:
            by_choice["accepted all"] += row["count"]
        elif row["preferences"] or row["analytics"]:
            by_choice["some categories"] += row["count"]
        else:
            by_choice["refused all"] += row["count"]
        by_source[row["source"]] = by_source.get(row["source"], 0) + row["count"]
    return ConsentStatistics(since=since, total=sum(by_source.values()), by_choice=by_choice, by_source=by_source)
