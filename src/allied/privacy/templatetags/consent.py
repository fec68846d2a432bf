from typing import Any

from django import template

from allied.privacy.consent import NO_CHOICE, consent_for

register = template.Library()


@register.inclusion_tag("privacy/consent/banner.html", takes_context=True)
def consent_banner(context: template.Context) -> dict[str, Any]:
    """The banner: its question until the visitor chooses, or once, the note that their browser's
    privacy signal was honoured. Reads the cookie and headers only, never the database."""
    request = context.get("request")
    if request is None:
        return {"consent": NO_CHOICE, "show": False}
    consent = consent_for(request)
    signal_noted = getattr(request, "consent_signal_recorded_now", False)
    on_settings_page = request.resolver_match is not None and request.resolver_match.url_name == "cookie_settings"
    return {
        "consent": consent,
        "show": (consent.asks or signal_noted) and not on_settings_page,
    }
