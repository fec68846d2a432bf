"""Spam protection without third parties: a honeypot field people never see, a time trap (the form
carries the signed time it was shown; sent sooner than a person could, or long after, it is
refused) and a limit per client address (core.ratelimit; the address is not stored)."""

import time
from enum import StrEnum

from django.conf import settings
from django.core import signing
from django.http import HttpRequest

from allied.core.ratelimit import over_limit

STAMP_SALT = "allied.website.form_shown_at"
HONEYPOT = "website"  # a field name form-filling robots like; people never see the field
STAMP = "shown"


class Refusal(StrEnum):
    TOO_MANY = "too_many"
    TOO_FAST = "too_fast"
    STALE = "stale"
    ROBOT = "robot"


REFUSAL_WORDS = {
    Refusal.TOO_MANY: "Many messages were sent from your connection in the last hour. Please try again later, "
    "or write to us by e-mail.",
    Refusal.TOO_FAST: "That was quicker than we expected, so we could not tell you from a robot. "
    "Please check your message and send it again.",
    Refusal.STALE: "This form was open for a long time and has expired. Please send your message again.",
    Refusal.ROBOT: "Your message could not be sent. Please send it again.",
}


def form_stamp() -> str:
    return signing.dumps(time.time(), salt=STAMP_SALT)


def spam_refusal(request: HttpRequest) -> Refusal | None:
    """Why the posted form is refused, or None. Every post counts towards the client's limit."""
    if over_limit(request, "website-form", settings.ALLIED_LEAD_SUBMISSIONS, settings.ALLIED_LEAD_WINDOW_SECONDS):
        return Refusal.TOO_MANY
    if request.POST.get(HONEYPOT, ""):
        return Refusal.ROBOT
    try:
        shown = float(signing.loads(request.POST.get(STAMP, ""), salt=STAMP_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return Refusal.ROBOT
    age = time.time() - shown
    if age < settings.ALLIED_FORM_MIN_SECONDS:
        return Refusal.TOO_FAST
    if age > settings.ALLIED_FORM_MAX_SECONDS:
        return Refusal.STALE
    return None
