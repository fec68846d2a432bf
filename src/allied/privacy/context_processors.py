"""What every page needs from the privacy engine: whether the signed-in person has a changed
notice to read (the slim bar in base.html)."""

from datetime import datetime
from functools import partial
from typing import Any

from django.http import HttpRequest

from allied.privacy.models import NoticeVersion
from allied.privacy.selectors import notice_changed_for

CHANGES_PATH = "/privacy/changes/"


def _changed(request: HttpRequest, user_id: int, joined: datetime) -> NoticeVersion | None:
    """Asked at most once a request (one query), and only when a template shows the bar."""
    if not hasattr(request, "_privacy_notice_changed"):
        request._privacy_notice_changed = notice_changed_for(user_id, joined=joined)  # type: ignore[attr-defined]
    return request._privacy_notice_changed  # type: ignore[attr-defined]


def notice_changed(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.path.startswith(CHANGES_PATH):
        return {"privacy_notice_changed": None}
    return {"privacy_notice_changed": partial(_changed, request, user.pk, user.date_joined)}
