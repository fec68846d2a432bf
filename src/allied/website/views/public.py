"""The public website: the home page, operators' CMS pages, and the inquiry and feedback forms.

Reading pages is cheap and the same for everyone: one query (the menu and the page), no session,
no CSRF token, a rendered body cached per version of its text, and a short browser cache. Only
the two forms set a CSRF cookie.
"""

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
from allied.website.forms import FeedbackForm, InquiryForm
from allied.website.models import LeadKind
from allied.website.selectors import public_site
from allied.website.services import lead_submit
from allied.website.spam import HONEYPOT, REFUSAL_WORDS, STAMP, Refusal, form_stamp, spam_refusal

PUBLIC_CACHE = "public, max-age=60"
NO_CSRF = {"csrf_token": ""}


def _public(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    response = render(request, template, {**context, **NO_CSRF}, status=status)
    response["Cache-Control"] = PUBLIC_CACHE
    return response


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return _public(request, "website/home.html", {"site": public_site()})


@require_GET
def page(request: HttpRequest, page_slug: str) -> HttpResponse:
    site = public_site(page_slug)
    if site.page is None:
        raise Http404
    return _public(
        request, "website/page.html", {"site": site, "page": site.page, "body": markdown_html(site.page.body)}
    )


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
