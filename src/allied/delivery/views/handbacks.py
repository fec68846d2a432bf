"""Hand-backs that need attention: a rider's end of day whose cash or parcels fell short, the
flagged ones first, each with a form to settle it (cash received later, parcels returned, the
rest written off with a reason); then the latest settled, with their outcome. AES dispatch and
finance."""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from allied.core.errors import FORM_ERRORS, NotFound
from allied.core.forms import form_add_domain_error
from allied.delivery.models import HandBack
from allied.delivery.services.handback import (
    SettlementInput,
    access_hand_back,
    hand_back_settle,
    hand_backs_needing_attention,
    hand_backs_settled,
    may_settle,
)


class SettlementForm(forms.Form):
    cash_received = forms.DecimalField(
        label="Cash received later (Rs)", min_value=0, max_digits=12, decimal_places=2, initial=0
    )
    parcels_returned = forms.IntegerField(label="Parcels found and returned to the hub", min_value=0, initial=0)
    reason = forms.CharField(
        label="Why the rest is written off",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


@dataclass
class OpenRow:
    hand_back: HandBack
    form: SettlementForm


def _form(hand_back: HandBack, data: Any = None) -> SettlementForm:
    return SettlementForm(data, auto_id=f"hand-back-{hand_back.pk}-%s")


@login_required
def hand_back_list(request: HttpRequest) -> HttpResponse:
    """The flagged hand-backs to settle and the latest settled; a POST settles one (`hand_back`)
    and, when its input is wrong, shows the page again with the errors on its form, nothing stored."""
    actor = request.actor  # type: ignore[attr-defined]
    if not may_settle(actor):
        raise PermissionDenied("delivery.manage or finance.manage")
    bound: dict[int, SettlementForm] = {}
    if request.method == "POST":
        try:
            hand_back = access_hand_back(actor, int(request.POST.get("hand_back", "")), for_update=False)
        except ValueError:
            raise NotFound("No such hand-back.") from None
        form = _form(hand_back, request.POST)
        if form.is_valid():
            try:
                with transaction.atomic(durable=True):
                    settlement = hand_back_settle(
                        hand_back=hand_back, data=SettlementInput(**form.cleaned_data), actor=actor
                    )
            except FORM_ERRORS as error:
                form_add_domain_error(form, error)
            else:
                messages.success(request, f"Settled the hand-back of {hand_back.route.rider}: {settlement.outcome}.")
                return redirect(request.path)
        bound[hand_back.pk] = form
    open_hand_backs = list(hand_backs_needing_attention(actor))
    for hand_back_id, form in bound.items():  # settled meanwhile: say why nothing was done
        if all(row.pk != hand_back_id for row in open_hand_backs):
            for problem in form.non_field_errors():
                messages.error(request, str(problem))
    context = {
        "rows": [OpenRow(row, bound.get(row.pk) or _form(row)) for row in open_hand_backs],
        "settled": hand_backs_settled(actor),
    }
    return render(request, "delivery/hand_backs.html", context)
