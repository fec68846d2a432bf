"""Reads of the privacy engine's records."""

from allied.privacy.models import NoticeAcknowledgement, NoticeVersion


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
