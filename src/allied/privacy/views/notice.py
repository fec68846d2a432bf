"""The privacy notice: the public page at /privacy/ and its history, what changed for a signed-in
person (and their acknowledgement), and the privacy officer's editor of the operators' text."""

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from allied.accounts import policy
from allied.accounts.decorators import permission_required
from allied.core.errors import FORM_ERRORS, NotFound
from allied.core.forms import form_add_domain_error
from allied.core.markdown import markdown_html
from allied.privacy.models import NoticeVersion
from allied.privacy.notice_text import change_lines, notice_sections
from allied.privacy.selectors import (
    notice_current,
    notice_version,
    notice_versions,
    notice_versions_unacknowledged,
)
from allied.privacy.services.notice import NoticeTextInvalid, notice_acknowledge, notice_text_publish

NOTICE_TEXT_LIMIT = 20_000


class NoticeTextForm(forms.Form):
    text = forms.CharField(
        label="The operators' text (Markdown)",
        max_length=NOTICE_TEXT_LIMIT,
        widget=forms.Textarea(
            attrs={
                "rows": 14,
                "hx-post": reverse_lazy("ops_privacy_notice_preview"),
                "hx-trigger": "input changed delay:400ms",
                "hx-target": "#notice-preview",
                "hx-swap": "outerHTML",
            }
        ),
        help_text="Shown above the generated sections. Headings, lists, links and emphasis work; HTML shows as text.",
    )


def _notice_context(version: NoticeVersion, *, current: NoticeVersion) -> dict[str, Any]:
    return {
        "version": version,
        "current": current,
        "operator_text": markdown_html(version.text),
        "sections": notice_sections(version),
        "changes": change_lines(version),
    }


@require_GET
def privacy_notice(request: HttpRequest) -> HttpResponse:
    """The published notice, generated from the current version's frozen data map and settings."""
    current = notice_current()
    return render(request, "privacy/notice/notice.html", _notice_context(current, current=current))


@require_GET
def notice_history(request: HttpRequest) -> HttpResponse:
    versions = notice_versions() or [notice_current()]
    return render(
        request,
        "privacy/notice/versions.html",
        {"versions": [(version, change_lines(version)) for version in versions]},
    )


@require_GET
def notice_version_page(request: HttpRequest, number: int) -> HttpResponse:
    """One version as it was published, with what changed from the one before."""
    version = notice_version(number)
    return render(request, "privacy/notice/version.html", _notice_context(version, current=notice_current()))


@login_required
@require_http_methods(["GET", "POST"])
def notice_changes(request: HttpRequest) -> HttpResponse:
    """What changed since this person last acknowledged the notice; "I have read it" records it."""
    user_id = cast(int, request.user.pk)  # signed in
    if request.method == "POST":
        # The version the page showed, not the latest: one published meanwhile is still to be read.
        try:
            version = notice_version(int(request.POST.get("version", "")))
        except (ValueError, NotFound):
            return HttpResponseBadRequest("Say which version of the privacy notice you have read.")
        with transaction.atomic(durable=True):
            notice_acknowledge(user_id=user_id, version=version)
        messages.success(request, f"Thank you: you have read version {version.number} of the privacy notice.")
        return redirect("privacy_notice_changes")
    unread = notice_versions_unacknowledged(user_id)
    return render(
        request,
        "privacy/notice/changes.html",
        {"unread": [(version, change_lines(version)) for version in unread], "current": notice_current()},
    )


@permission_required(policy.PRIVACY_MANAGE)
@require_http_methods(["GET", "POST"])
def notice_edit(request: HttpRequest) -> HttpResponse:
    """The privacy officer rewrites the operators' text and publishes it; the same text again
    publishes nothing."""
    actor = request.actor  # type: ignore[attr-defined]
    current = notice_current()
    form = NoticeTextForm(request.POST or None, initial={"text": current.text})
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic(durable=True):
                version = notice_text_publish(text=form.cleaned_data["text"], actor=actor)
        except (NoticeTextInvalid, *FORM_ERRORS) as error:
            form_add_domain_error(form, error)
        else:
            if version.number == current.number:
                messages.info(request, "No change, no new version: the text is the one already published.")
            else:
                messages.success(request, f"Version {version.number} of the privacy notice is published.")
            return redirect("ops_privacy_notice")
    preview_text = form.data.get("text", current.text) if form.is_bound else current.text
    return render(
        request,
        "privacy/notice/edit.html",
        {
            "form": form,
            "current": current,
            "preview": markdown_html(preview_text),
            "versions": [(version, change_lines(version)) for version in notice_versions()],
        },
    )


@require_POST
@permission_required(policy.PRIVACY_MANAGE)
def notice_preview(request: HttpRequest) -> HttpResponse:
    """The editor's live preview (an htmx partial): the text as the notice will show it."""
    text = request.POST.get("text", "")[:NOTICE_TEXT_LIMIT]
    return render(request, "privacy/notice/edit.html#preview", {"preview": markdown_html(text)})
