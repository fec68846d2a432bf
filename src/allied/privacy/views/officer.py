"""The privacy officer's console: open requests against their deadlines, each request's actions,
and the retention job's runs (with a button to run it now or count what it would do)."""

from datetime import timedelta
from uuid import UUID

from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from allied.accounts import policy
from allied.accounts.decorators import permission_required
from allied.core.errors import DomainError
from allied.core.models import PersonalDataShared
from allied.privacy.forms import RequestCloseForm
from allied.privacy.models import DataSubjectRequest, RetentionRun
from allied.privacy.selectors import consent_statistics
from allied.privacy.services.requests import (
    privacy_request_close,
    privacy_request_erase,
    subject_archive,
    subject_of,
)
from allied.privacy.services.retention import retention_run

Status = DataSubjectRequest.Status


@require_GET
@permission_required(policy.PRIVACY_MANAGE)
def dashboard(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    open_requests = list(DataSubjectRequest.objects.filter(status=Status.OPEN).order_by("due_at"))
    month_ago = now - timedelta(days=30)
    context = {
        "now": now,
        "soon": now + timedelta(days=7),
        "open_requests": open_requests,
        "overdue": sum(1 for r in open_requests if r.due_at and r.due_at < now),
        "unverified": DataSubjectRequest.objects.filter(status=Status.UNVERIFIED).count(),
        "closed": DataSubjectRequest.objects.filter(status__in=[Status.DONE, Status.REJECTED]).order_by(
            "-completed_at"
        )[:10],
        "runs": RetentionRun.objects.order_by("-started_at")[:5],
        "consent": consent_statistics(since=month_ago),
        "shared": [
            (row["recipient_category"].replace("_", " ").capitalize(), row["transmissions"])
            for row in PersonalDataShared.objects.filter(at__gte=month_ago)
            .values("recipient_category")
            .annotate(transmissions=Count("id"))
            .order_by("-transmissions")
        ],
    }
    return render(request, "privacy/officer/dashboard.html", context)


def _request(request_id: UUID) -> DataSubjectRequest:
    found = DataSubjectRequest.objects.filter(public_id=request_id).first()
    if found is None:
        raise Http404
    return found


ACTIONS = {"erase", "close", "reject"}


@require_http_methods(["GET", "POST"])
@permission_required(policy.PRIVACY_MANAGE)
def request_detail(request: HttpRequest, request_id: UUID) -> HttpResponse:
    made = _request(request_id)
    action = request.POST.get("action", "")
    form = RequestCloseForm(request.POST if action in {"close", "reject"} else None)
    refusal = ""
    if request.method == "POST":
        if action not in ACTIONS:
            return HttpResponse("Unknown action.", status=400, content_type="text/plain")
        if action == "erase" or form.is_valid():
            try:
                with transaction.atomic(durable=True):
                    if action == "erase":
                        privacy_request_erase(request=made, actor=request.actor)  # type: ignore[attr-defined]
                    else:
                        privacy_request_close(
                            request=made,
                            actor=request.actor,  # type: ignore[attr-defined]
                            outcome=form.cleaned_data["outcome"],
                            rejected=action == "reject",
                        )
            except DomainError as error:
                refusal = error.detail
            else:
                messages.success(request, "Done: the request is closed and the person is told.")
                return redirect("privacy_request_detail", request_id=request_id)
    context = {"made": made, "form": form, "refusal": refusal, "subject": subject_of(made), "now": timezone.now()}
    failed = request.method == "POST"
    return render(request, "privacy/officer/request.html", context, status=400 if failed else 200)


@permission_required(policy.PRIVACY_MANAGE)
def request_archive(request: HttpRequest, request_id: UUID) -> HttpResponse:
    made = _request(request_id)
    archive = subject_archive(subject=subject_of(made), actor=request.actor)  # type: ignore[attr-defined]
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="privacy-request-{made.public_id}.zip"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@permission_required(policy.PRIVACY_MANAGE)
def retention_runs(request: HttpRequest) -> HttpResponse:
    runs = RetentionRun.objects.order_by("-started_at")[:50]
    return render(request, "privacy/officer/retention.html", {"runs": runs})


@require_POST
@permission_required(policy.PRIVACY_MANAGE)
def retention_run_now(request: HttpRequest) -> HttpResponse:
    run = retention_run(actor=request.actor, dry_run=request.POST.get("dry_run") == "1")  # type: ignore[attr-defined]
    verb = "would touch" if run.dry_run else "touched"
    messages.success(request, f"The retention job {verb} {run.rows} row(s).")
    return redirect("privacy_retention_run", run_id=run.pk)


@permission_required(policy.PRIVACY_MANAGE)
def retention_run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = RetentionRun.objects.filter(pk=run_id).first()
    if run is None:
        raise Http404
    return render(request, "privacy/officer/retention_run.html", {"run": run})
