from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from django import template
from django.dispatch import receiver
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.autoreload import file_changed
from django.utils.safestring import SafeString

from allied.privacy.consent import NO_CHOICE, consent_for

register = template.Library()


def banner_variant(request: HttpRequest | None) -> tuple[bool, str]:
    """What the banner is on this request: whether it shows, and the privacy signal it notes (its
    question until the visitor chooses, or once, the note that their browser's signal was
    honoured). Reads the cookie and headers only, never the database."""
    if request is None:
        return False, ""
    consent = consent_for(request)
    signal_noted = getattr(request, "consent_signal_recorded_now", False)
    on_settings_page = request.resolver_match is not None and request.resolver_match.url_name == "cookie_settings"
    return (consent.asks or signal_noted) and not on_settings_page, consent.signal


@cache
def _banner_html(show: bool, signal: str) -> SafeString:
    """The banner is the same for every visitor in the same variant: rendered once per process."""
    context: dict[str, Any] = {"consent": replace(NO_CHOICE, signal=signal), "show": show}
    return SafeString(render_to_string("privacy/consent/banner.html", context))


@receiver(file_changed, dispatch_uid="allied.privacy.consent_banner")
def _forget_banner_on_template_change(sender: object, file_path: Path, **kwargs: Any) -> None:
    """The development server reloads templates without restarting; the banner follows them."""
    if file_path.suffix == ".html":
        _banner_html.cache_clear()


@register.simple_tag(takes_context=True)
def consent_banner(context: template.Context) -> SafeString:
    """The cookie banner of this request (banner_variant)."""
    return _banner_html(*banner_variant(context.get("request")))
