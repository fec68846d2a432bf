"""The public website: the home page, operators' CMS pages, and the inquiry and feedback forms.

Reading pages is cheap and the same for everyone: no session, no CSRF token, a short browser
cache, and the HTML rendered once per process for each version of the pages (`SharedPages`), so a
visit costs one small query (the version) and no rendering. Only the two forms set a CSRF cookie.
"""

import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.autoreload import file_changed
from django.views.decorators.http import require_GET, require_http_methods

from allied.core.errors import ValidationFailed
from allied.core.forms import form_add_domain_error
from allied.core.markdown import markdown_html
from allied.privacy.templatetags.consent import banner_variant
from allied.website.forms import FeedbackForm, InquiryForm
from allied.website.models import LeadKind
from allied.website.selectors import public_site, public_site_version
from allied.website.services import lead_submit
from allied.website.spam import HONEYPOT, REFUSAL_WORDS, STAMP, Refusal, form_stamp, spam_refusal

PUBLIC_CACHE = "public, max-age=60"
NO_CSRF = {"csrf_token": ""}


class SharedPages:
    """Public pages as every visitor gets them, rendered once per process and version of the pages.

    A page differs between visitors only by its CSP nonce, which the shared HTML holds as a mark
    swapped for each request's own, and by the cookie banner's variant, which is part of the key
    with the path. Nothing else on these pages may depend on who asks. A new version of the pages
    (any page saved, added or deleted) forgets every page rendered for the old one."""

    NONCE_MARK = f"csp-nonce-{secrets.token_hex(16)}"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: tuple[object, int] | None = None
        self._html: dict[tuple[str, bool, str], str] = {}

    def response(self, request: HttpRequest, build: Callable[[], tuple[str, dict[str, Any]]]) -> HttpResponse:
        """The page at request.path; `build` gives its template and context when it is not rendered
        yet for this version (and raises Http404 for a page that is not there)."""
        version = public_site_version()
        key = (request.path, *banner_variant(request))
        with self._lock:
            if version != self._version:
                self._version, self._html = version, {}
            html = self._html.get(key)
        if html is None:
            template, context = build()
            html = render_to_string(template, {**context, **NO_CSRF, "csp_nonce": self.NONCE_MARK}, request)
            with self._lock:
                if version == self._version:
                    self._html[key] = html
        response = HttpResponse(html.replace(self.NONCE_MARK, str(get_nonce(request))))
        response["Cache-Control"] = PUBLIC_CACHE
        return response

    def forget(self) -> None:
        with self._lock:
            self._version, self._html = None, {}


shared_pages = SharedPages()


@receiver(file_changed, dispatch_uid="allied.website.shared_pages")
def _forget_pages_on_template_change(sender: object, file_path: Path, **kwargs: Any) -> None:
    """The development server reloads templates without restarting; the shared pages follow them."""
    if file_path.suffix == ".html":
        shared_pages.forget()


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return shared_pages.response(request, lambda: ("website/home.html", {"site": public_site()}))


@require_GET
def page(request: HttpRequest, page_slug: str) -> HttpResponse:
    def build() -> tuple[str, dict[str, Any]]:
        site = public_site(page_slug)
        if site.page is None:
            raise Http404
        return "website/page.html", {"site": site, "page": site.page, "body": markdown_html(site.page.body)}

    return shared_pages.response(request, build)


FORMS: dict[str, tuple[type[forms.Form], str]] = {
    LeadKind.INQUIRY: (InquiryForm, "website_contact"),
    LeadKind.FEEDBACK: (FeedbackForm, "website_feedback"),
}


def _lead_form(request: HttpRequest, kind: str) -> HttpResponse:
    form_class, route = FORMS[kind]
    context: dict[str, Any] = {
        "kind": kind,
        "sent": request.GET.get("sent") == "1",
        "honeypot": HONEYPOT,
        "retention_days": settings.ALLIED_LEAD_RETENTION_DAYS,
    }
    status = 200
    if request.method == "POST":
        form = form_class(request.POST)
        refusal = spam_refusal(request)
        if refusal is not None:
            form.is_valid()  # shows what was typed, with the refusal above it
            form.add_error(None, REFUSAL_WORDS[refusal])
            status = 429 if refusal == Refusal.TOO_MANY else 400
        elif form.is_valid():
            try:
                with transaction.atomic(durable=True):
                    lead_submit(kind=kind, **form.cleaned_data)
            except ValidationFailed as error:
                form_add_domain_error(form, error)
            else:
                return redirect(f"{reverse(route)}?sent=1")
        if form.errors and status == 200:
            status = 400
    else:
        form = form_class()
    context |= {"form": form, "stamp": form_stamp(), "stamp_name": STAMP, "site": public_site()}
    response = render(request, "website/lead_form.html", context, status=status)
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    return _lead_form(request, LeadKind.INQUIRY)


@require_http_methods(["GET", "POST"])
def feedback(request: HttpRequest) -> HttpResponse:
    return _lead_form(request, LeadKind.FEEDBACK)
