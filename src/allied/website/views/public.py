"""The public website: the home page, operators' CMS pages, and the inquiry and feedback forms.

Reading pages is cheap and the same for everyone: no session, no CSRF token, a short browser
cache, and the HTML rendered once per process for each version of the pages (core/pages.py), so a
visit costs one small query (the version) and no rendering. Only the two forms set a CSRF cookie.
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from allied.core.errors import ValidationFailed
from allied.core.forms import form_add_domain_error
from allied.core.markdown import markdown_html
from allied.core.pages import RenderedPages
from allied.privacy.templatetags.consent import banner_variant
from allied.website.forms import FeedbackForm, InquiryForm
from allied.website.models import LeadKind
from allied.website.selectors import public_site, public_site_version
from allied.website.services import lead_submit
from allied.website.spam import HONEYPOT, REFUSAL_WORDS, STAMP, Refusal, form_stamp, spam_refusal

PUBLIC_CACHE = "public, max-age=60"


# Every page of every version the site has been at lately; a saved page makes a new version.
shared_pages = RenderedPages(size=256)


def _shared_page(request: HttpRequest, build: Callable[[], tuple[str, dict[str, Any]]]) -> HttpResponse:
    """The page at request.path as every visitor of this banner variant gets it, rendered once
    per process for each version of the pages (any page saved, added or deleted)."""
    key = (public_site_version(), request.path, *banner_variant(request))
    response = shared_pages.response(request, key, build)
    response["Cache-Control"] = PUBLIC_CACHE
    return response


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return _shared_page(request, lambda: ("website/home.html", {"site": public_site()}))


@require_GET
def page(request: HttpRequest, page_slug: str) -> HttpResponse:
    def build() -> tuple[str, dict[str, Any]]:
        site = public_site(page_slug)
        if site.page is None:
            raise Http404
        return "website/page.html", {"site": site, "page": site.page, "body": markdown_html(site.page.body)}

    return _shared_page(request, build)


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
