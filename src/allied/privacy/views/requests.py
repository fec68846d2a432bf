"""Data-subject requests as the person makes them: the public form (or the signed-in one), the
codes, the request's page and the download; and a signed-in person's own data on their profile.

A request's page is shown only to the browser that entered its codes (a session mark), so its
address in a log or a shared link shows nothing; an unknown or foreign request is a plain 404.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from allied.core.errors import DomainError
from allied.core.forms import form_add_domain_error
from allied.core.privacy import DataSubject, subject_export
from allied.core.ratelimit import over_limit
from allied.privacy.forms import PrivacyRequestForm, VerifyCodesForm
from allied.privacy.models import DataSubjectRequest
from allied.privacy.services.requests import (
    privacy_request_resend,
    privacy_request_submit,
    privacy_request_verify,
    subject_archive,
    subject_of,
)

ARCHIVE_AVAILABLE_FOR = timedelta(days=7)
REQUESTS_PER_CLIENT_HOUR = 10
PRIVATE_PAGE = "private, no-store"


def _session_key(request_id: UUID) -> str:
    return f"privacy_request:{request_id}"


def _request_or_404(request_id: UUID) -> DataSubjectRequest:
    found = DataSubjectRequest.objects.filter(public_id=request_id).first()
    if found is None:
        raise Http404
    return found


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = PRIVATE_PAGE
    return response


@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    user = request.user if request.user.is_authenticated else None
    initial = {"email": user.email, "phone": user.phone} if user else {}  # type: ignore[union-attr]
    form = PrivacyRequestForm(request.POST or None, initial={"kind": request.GET.get("kind", ""), **initial})
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["website"]:  # a bot filled the field people cannot see
            return redirect("privacy_request_new")
        if over_limit(request, "privacy_request", REQUESTS_PER_CLIENT_HOUR, 3600):
            form.add_error(None, "Too many requests from your network in the last hour. Please try again later.")
            context = {"form": form, "days": settings.ALLIED_PRIVACY_REQUEST_DAYS}
            return _private(render(request, "privacy/requests/new.html", context, status=429))
        try:
            with transaction.atomic(durable=True):
                made = privacy_request_submit(
                    kind=form.cleaned_data["kind"],
                    email=form.cleaned_data["email"],
                    phone=form.cleaned_data["phone"],
                    details=form.cleaned_data["details"],
                    source=DataSubjectRequest.Source.ACCOUNT if user else DataSubjectRequest.Source.WEBSITE,
                    user=user if user and user.email.lower() == form.cleaned_data["email"].strip().lower() else None,  # type: ignore[union-attr]
                )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            request.session[f"{_session_key(made.public_id)}:pending"] = True
            return redirect("privacy_request_verify", request_id=made.public_id)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "days": settings.ALLIED_PRIVACY_REQUEST_DAYS}
    return _private(render(request, "privacy/requests/new.html", context, status=status))


@require_http_methods(["GET", "POST"])
def request_verify(request: HttpRequest, request_id: UUID) -> HttpResponse:
    made = _request_or_404(request_id)
    if not request.session.get(f"{_session_key(request_id)}:pending"):
        raise Http404  # only the browser that sent the request enters its codes
    if made.status != DataSubjectRequest.Status.UNVERIFIED:
        return redirect("privacy_request_status", request_id=request_id)
    form = VerifyCodesForm(request.POST or None, request=made)
    notice = ""
    if request.method == "POST" and request.POST.get("action") == "resend":
        try:
            with transaction.atomic(durable=True):
                privacy_request_resend(request=made)
            notice = "New codes are on their way; the old ones no longer work."
        except DomainError as error:
            notice = error.detail
        form = VerifyCodesForm(request=made)
    elif request.method == "POST" and form.is_valid():
        try:
            made = privacy_request_verify(
                request=made,
                email_code=form.cleaned_data.get("email_code", ""),
                phone_code=form.cleaned_data.get("phone_code", ""),
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            request.session[_session_key(request_id)] = timezone.now().isoformat()
            request.session.pop(f"{_session_key(request_id)}:pending", None)
            return redirect("privacy_request_status", request_id=request_id)
    status = 400 if request.method == "POST" and form.errors else 200
    context = {"form": form, "made": made, "notice": notice}
    return _private(render(request, "privacy/requests/verify.html", context, status=status))


def _verified_here(request: HttpRequest, made: DataSubjectRequest) -> bool:
    return bool(request.session.get(_session_key(made.public_id)))


@require_GET
def request_status(request: HttpRequest, request_id: UUID) -> HttpResponse:
    made = _request_or_404(request_id)
    if not _verified_here(request, made):
        raise Http404
    downloadable = _archive_available(made)
    context = {"made": made, "downloadable": downloadable, "days": settings.ALLIED_PRIVACY_REQUEST_DAYS}
    return _private(render(request, "privacy/requests/status.html", context))


def _archive_available(made: DataSubjectRequest) -> bool:
    return (
        made.kind == DataSubjectRequest.Kind.ACCESS
        and made.status == DataSubjectRequest.Status.DONE
        and made.verified_at is not None
        and timezone.now() - made.verified_at < ARCHIVE_AVAILABLE_FOR
    )


def _archive_response(archive: bytes, name: str) -> HttpResponse:
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return _private(response)


@require_GET
def request_archive(request: HttpRequest, request_id: UUID) -> HttpResponse:
    made = _request_or_404(request_id)
    if not _verified_here(request, made) or not _archive_available(made):
        raise Http404
    archive = subject_archive(subject=subject_of(made), actor=request.actor)  # type: ignore[attr-defined]
    return _archive_response(archive, f"allied-my-data-{timezone.localdate():%Y-%m-%d}.zip")


def _me(request: HttpRequest) -> DataSubject:
    user = request.user
    return DataSubject(email=user.email, user_id=user.pk, phone=user.phone)  # type: ignore[union-attr]


@dataclass(frozen=True)
class HeldSection:
    """One part of what Allied holds, shaped for reading: a table of records, or facts."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    facts: list[tuple[str, str]]


def _words(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return ", ".join(_cell(item) for item in (value.values() if isinstance(value, dict) else value))
    return str(value)


def _held_sections(held: dict[str, dict[str, Any]]) -> list[HeldSection]:
    sections = []
    for app, parts in held.items():
        for name, value in parts.items():
            title = f"{_words(app)}: {_words(name).lower()}"
            if isinstance(value, list) and value and all(isinstance(row, dict) for row in value):
                columns = list(dict.fromkeys(key for row in value for key in row))
                rows = [[_cell(row.get(column)) for column in columns] for row in value]
                sections.append(HeldSection(title, [_words(c) for c in columns], rows, []))
            elif isinstance(value, dict):
                sections.append(HeldSection(title, [], [], [(_words(k), _cell(v)) for k, v in value.items()]))
            else:
                sections.append(HeldSection(title, [], [], [(_words(name), _cell(value))] if value else []))
    return sections


@require_GET
@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    """What Allied holds about the signed-in person, section by section, and their requests."""
    with transaction.atomic():
        held = subject_export(subject=_me(request), actor=request.actor)  # type: ignore[attr-defined]
    mine = DataSubjectRequest.objects.filter(user_id=request.user.pk or 0).order_by("-received_at")[:20]
    context = {"sections": _held_sections(held), "requests": mine}
    return _private(render(request, "privacy/my_data.html", context))


@require_GET
@login_required
def my_data_archive(request: HttpRequest) -> HttpResponse:
    archive = subject_archive(subject=_me(request), actor=request.actor)  # type: ignore[attr-defined]
    return _archive_response(archive, f"allied-my-data-{timezone.localdate():%Y-%m-%d}.zip")
