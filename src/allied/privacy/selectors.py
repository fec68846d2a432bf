"""Reads of the privacy engine's records."""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, Exists, OuterRef, QuerySet

from allied.accounts.policy import PRIVACY_MANAGE, Actor, actor_can
from allied.core.errors import NotFound, PermissionDenied
from allied.core.models import PersonalDataShared
from allied.core.privacy import DataMapEntry, data_map, undeclared_personal_fields
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


def notice_changed_for(user_id: int, *, joined: datetime) -> NoticeVersion | None:
    """The latest version if it came out after this user joined and they have not acknowledged it,
    in one query (asked on every signed-in page); None also before any version is published. A
    person who joined under the current version has nothing that changed to read."""
    seen = NoticeAcknowledgement.objects.filter(user_id=user_id, version__number__gte=OuterRef("number"))
    latest = (
        NoticeVersion.objects.order_by("-number")
        .annotate(seen=Exists(seen))
        .only("number", "published_at", "change_summary")
        .first()
    )
    if latest is None or latest.seen or latest.published_at <= joined:  # type: ignore[attr-defined]
        return None
    return latest


def notice_version(number: int) -> NoticeVersion:
    version = NoticeVersion.objects.filter(number=number).first()
    if version is None:
        raise NotFound(f"The privacy notice has no version {number}.")
    return version


def notice_versions_unacknowledged(user_id: int) -> list[NoticeVersion]:
    """The versions published after the last one this user acknowledged, newest first."""
    last_seen = (
        NoticeAcknowledgement.objects.filter(user_id=user_id)
        .order_by("-version__number")
        .values_list("version__number", flat=True)
        .first()
    )
    return list(NoticeVersion.objects.filter(number__gt=last_seen or 0).order_by("-number"))


@dataclass(frozen=True)
class DataMapCoverage:
    """How many of the fields that hold or look like personal data are declared in the data map."""

    declared: int
    undeclared: list[str]

    @property
    def total(self) -> int:
        return self.declared + len(self.undeclared)

    @property
    def percent(self) -> int:
        return 100 if not self.total else self.declared * 100 // self.total


def data_map_coverage() -> DataMapCoverage:
    return DataMapCoverage(declared=len(data_map()), undeclared=undeclared_personal_fields())


def data_map_entries(*, purpose: str = "", category: str = "") -> list[DataMapEntry]:
    """The data map's entries, optionally only those of one purpose and one data category."""
    return [
        entry
        for entry in data_map()
        if (not purpose or entry.purpose == purpose) and (not category or entry.category == category)
    ]


def sharing_records_visible_to(
    actor: Actor,
    *,
    recipient_category: str = "",
    organization_slug: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[PersonalDataShared]:
    """The sharing register as this caller may see it: every row for AES's privacy officer, a
    partner's own rows for its members; newest first."""
    rows = PersonalDataShared.objects.select_related("organization").order_by("-at", "-id")
    if actor.is_operator:
        if not actor_can(actor, PRIVACY_MANAGE):
            raise PermissionDenied("Only AES's privacy officer sees every partner's sharing register.")
        if organization_slug:
            rows = rows.filter(organization__slug=organization_slug)
    elif actor.organization is None:
        raise PermissionDenied("Sign in as a member of an organization to see its sharing register.")
    else:
        rows = rows.filter(organization=actor.organization)
    if recipient_category:
        rows = rows.filter(recipient_category=recipient_category)
    if since:
        rows = rows.filter(at__date__gte=since)
    if until:
        rows = rows.filter(at__date__lte=until)
    return rows
