"""Cookie consent as each request sees it: the visitor's recorded choice (a signed cookie) and the
privacy signals their browser sends. Anything that would set a cookie or run code beyond what is
strictly necessary asks `consent_allows(request, category)` first.

The consent cookie is itself strictly necessary: it holds the browser's anonymous id and its last
recorded choice, signed so a browser cannot claim a choice that was never recorded."""

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

from allied.privacy.models import ConsentRecord

COOKIE_NAME = "allied_consent"
COOKIE_MAX_AGE = 365 * 24 * 60 * 60
COOKIE_SALT = "allied.privacy.consent"
OPTIONAL_CATEGORIES = ("preferences", "analytics")
CHOSEN_BY_PERSON = frozenset({ConsentRecord.Source.BANNER, ConsentRecord.Source.SETTINGS})
SIGNAL_SOURCES = frozenset({ConsentRecord.Source.GPC, ConsentRecord.Source.DNT})


@dataclass(frozen=True)
class Consent:
    """What this browser may be used for: its last recorded choice, overridden by a privacy
    signal it sends now (`signal` is "gpc" or "dnt" when one is honoured, else "")."""

    anonymous_id: uuid.UUID | None
    preferences: bool
    analytics: bool
    source: str  # how the last recorded choice was made; "" when none was
    at: datetime | None
    signal: str

    @property
    def chosen(self) -> bool:
        """The person chose (a signal's record is not a choice: once it stops, they are asked)."""
        return self.source in CHOSEN_BY_PERSON

    @property
    def asks(self) -> bool:
        """Whether the banner asks its question on this request."""
        return not self.chosen and not self.signal

    @property
    def signal_recorded(self) -> bool:
        return bool(self.signal) and self.source == self.signal

    def allows(self, category: str) -> bool:
        if category not in OPTIONAL_CATEGORIES:
            raise ValueError(f"Unknown cookie category {category!r}; the optional ones are {OPTIONAL_CATEGORIES}.")
        if self.signal:
            return False
        return bool(getattr(self, category))


NO_CHOICE = Consent(anonymous_id=None, preferences=False, analytics=False, source="", at=None, signal="")


def privacy_signal(request: HttpRequest) -> str:
    """The refusal the browser signals and Allied honours: Global Privacy Control always, Do Not
    Track when ALLIED_HONOUR_DNT says so."""
    if request.headers.get("Sec-GPC", "").strip() == "1":
        return ConsentRecord.Source.GPC
    if settings.ALLIED_HONOUR_DNT and request.headers.get("DNT", "").strip() == "1":
        return ConsentRecord.Source.DNT
    return ""


def _from_cookie(raw: str) -> Consent:
    """The choice a cookie carries; a forged, stale or malformed one counts as no choice."""
    try:
        data = signing.loads(raw, salt=COOKIE_SALT, max_age=COOKIE_MAX_AGE)
        return Consent(
            anonymous_id=uuid.UUID(hex=data["id"]),
            preferences=data["p"] is True,
            analytics=data["a"] is True,
            source=ConsentRecord.Source(data["s"]).value,
            at=datetime.fromtimestamp(int(data["t"]), tz=UTC),
            signal="",
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return NO_CHOICE


def consent_for(request: HttpRequest) -> Consent:
    """This request's consent, read once from the cookie and the headers (no database query)."""
    cached: Consent | None = getattr(request, "_allied_consent", None)
    if cached is None:
        recorded = _from_cookie(request.COOKIES.get(COOKIE_NAME, ""))
        cached = replace(recorded, signal=privacy_signal(request))
        request._allied_consent = cached  # type: ignore[attr-defined]
    return cached


def consent_allows(request: HttpRequest, category: str) -> bool:
    """May this request use the optional cookie category ("preferences" or "analytics")?"""
    return consent_for(request).allows(category)


def consent_remember(request: HttpRequest, response: HttpResponse, record: ConsentRecord) -> None:
    """Put a recorded choice in the browser's consent cookie, and in this request's view of it."""
    value = signing.dumps(
        {
            "id": record.anonymous_id.hex,
            "p": record.preferences,
            "a": record.analytics,
            "s": record.source,
            "t": int(record.at.timestamp()),
        },
        salt=COOKIE_SALT,
    )
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=COOKIE_MAX_AGE,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    request._allied_consent = Consent(  # type: ignore[attr-defined]
        anonymous_id=record.anonymous_id,
        preferences=record.preferences,
        analytics=record.analytics,
        source=record.source,
        at=record.at,
        signal=privacy_signal(request),
    )
