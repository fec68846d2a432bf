"""The console's leads pipeline: inquiries and feedback from the website, their notes and status."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from allied.accounts import policy
from allied.accounts.decorators import permission_required
from allied.accounts.policy import Actor
from allied.core.errors import FORM_ERRORS
from allied.core.forms import form_add_domain_error
from allied.website.forms import LeadNoteForm, LeadStatusForm
from allied.website.models import Lead, LeadKind, LeadStatus
from allied.website.selectors import access_lead, leads_for
from allied.website.services import LEAD_TRANSITIONS, lead_note_add, lead_status_change


@permission_required(policy.LEADS_MANAGE)
def lead_list(request: HttpRequest) -> HttpResponse:
    status, kind = request.GET.get("status", ""), request.GET.get("kind", "")
    leads = leads_for(request.actor, status=status, kind=kind)  # type: ignore[attr-defined]
    context = {
        "page_obj": Paginator(leads, 50).get_page(request.GET.get("page")),
        "status": status,
        "kind": kind,
        "statuses": LeadStatus.choices,
        "kinds": LeadKind.choices,
        "retention_days": settings.ALLIED_LEAD_RETENTION_DAYS,
    }
    return render(request, "website/ops/lead_list.html", context)


def _status_choices(lead: Lead) -> list[tuple[str, str]]:
    return [(s, LeadStatus(s).label) for s in LeadStatus.values if s in LEAD_TRANSITIONS[lead.status]]


def _detail(
    request: HttpRequest, actor: Actor, lead: Lead, *, status_form: LeadStatusForm | None = None,
    note_form: LeadNoteForm | None = None,
) -> HttpResponse:  # fmt: skip
    context = {
        "lead": lead,
        "activities": lead.activities.all(),
        "status_form": status_form or LeadStatusForm(choices=_status_choices(lead)),
        "note_form": note_form or LeadNoteForm(),
        "may_win": actor.is_system or policy.ORGANIZATIONS_MANAGE in actor.permissions,
    }
    failed = (status_form is not None and status_form.errors) or (note_form is not None and note_form.errors)
    return render(request, "website/ops/lead_detail.html", context, status=400 if failed else 200)


@permission_required(policy.LEADS_MANAGE)
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    """The lead, its message and history; move it along the pipeline or add a note."""
    actor = request.actor  # type: ignore[attr-defined]
    lead = access_lead(actor, lead_id)
    if request.method != "POST":
        return _detail(request, actor, lead)
    action = request.POST.get("action", "")
    if action == "status":
        status_form = LeadStatusForm(request.POST, choices=_status_choices(lead))
        if status_form.is_valid():
            try:
                with transaction.atomic(durable=True):
                    lead = lead_status_change(lead=lead, actor=actor, **status_form.cleaned_data)
            except FORM_ERRORS as error:
                form_add_domain_error(status_form, error)
            else:
                won = lead.status == LeadStatus.WON
                messages.success(
                    request,
                    f"Won: {lead.company} is a partner now and {lead.email} is invited as its owner."
                    if won
                    else f"The lead is {lead.get_status_display().lower()} now.",
                )
                return redirect("ops_lead", lead_id=lead.pk)
        return _detail(request, actor, lead, status_form=status_form)
    if action == "note":
        note_form = LeadNoteForm(request.POST)
        if note_form.is_valid():
            try:
                with transaction.atomic(durable=True):
                    lead_note_add(lead=lead, note=note_form.cleaned_data["note"], actor=actor)
            except FORM_ERRORS as error:
                form_add_domain_error(note_form, error)
            else:
                messages.success(request, "Note added.")
                return redirect("ops_lead", lead_id=lead.pk)
        return _detail(request, actor, lead, note_form=note_form)
    messages.error(request, "Unknown action.")
    return redirect("ops_lead", lead_id=lead.pk)
