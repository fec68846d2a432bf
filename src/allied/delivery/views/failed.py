"""The failed-deliveries (NDR) queue, in the console for AES dispatch (every partner's stops) and
in the portal for a partner (its own): each stop whose last attempt failed, why, how often, and
what happened last; and what to do next: another day, a corrected address or phone, or back to
the sender."""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from allied.accounts import policy
from allied.accounts.decorators import permission_required
from allied.accounts.policy import Actor
from allied.core.carriers import carrier_name
from allied.core.errors import FORM_ERRORS, NotFound
from allied.core.forms import form_add_domain_error
from allied.delivery.models import DeliveryTask
from allied.delivery.services.couriers import courier_refusals, courier_task_book_again
from allied.delivery.services.failed import (
    ContactInput,
    access_task,
    failed_deliveries,
    may_handle_failed,
    task_contact_update,
    task_reattempt,
    task_return_to_origin,
)

SHOWN = 200  # the oldest first; a queue longer than this is worked from the top


class ReattemptForm(forms.Form):
    date = forms.DateField(label="Try again on", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["date"].widget.attrs["min"] = timezone.localdate().isoformat()


class ContactForm(forms.Form):
    line1 = forms.CharField(label="Street address", max_length=200)
    line2 = forms.CharField(label="Address line 2", max_length=200, required=False)
    area = forms.CharField(label="Area", max_length=100, required=False)
    city = forms.CharField(label="City", max_length=100)
    postcode = forms.CharField(label="Postcode", max_length=20, required=False)
    phone = forms.CharField(label="Phone", max_length=32, widget=forms.TextInput(attrs={"type": "tel"}))


class ReturnForm(forms.Form):
    reason = forms.CharField(label="Note (optional)", max_length=200, required=False)


class BookAgainForm(forms.Form):
    """No input: the stop is booked with its courier as it now stands."""


FORMS: dict[str, type[forms.Form]] = {
    "reattempt": ReattemptForm,
    "contact": ContactForm,
    "return": ReturnForm,
    "book": BookAgainForm,
}
DONE = {
    "reattempt": "{code} will be tried again on {day:%a %d %b}.",
    "contact": "{code}: the contact details are corrected.",
    "return": "{code} goes back to its sender.",
    "book": "{code} is being booked again with {courier}: the stop shows the outcome.",
}


@dataclass
class FailedRow:
    task: DeliveryTask
    reattempt: forms.Form
    contact: forms.Form
    send_back: forms.Form
    open_contact: bool = False


def _contact_initial(task: DeliveryTask) -> dict[str, Any]:
    return {
        "line1": task.address_line1,
        "line2": task.address_line2,
        "area": task.address_area,
        "city": task.address_city,
        "postcode": task.address_postcode,
        "phone": task.contact_phone,
    }


def _row(task: DeliveryTask, bound: dict[str, forms.Form]) -> FailedRow:
    auto_id = f"stop-{task.pk}-%s"
    return FailedRow(
        task,
        bound.get("reattempt") or ReattemptForm(auto_id=auto_id),
        bound.get("contact") or ContactForm(initial=_contact_initial(task), auto_id=auto_id),
        bound.get("return") or ReturnForm(auto_id=auto_id),
        open_contact="contact" in bound,
    )


def _apply(action: str, form: forms.Form, task: DeliveryTask, actor: Actor) -> str:
    data = form.cleaned_data
    with transaction.atomic(durable=True):
        if action == "reattempt":
            task = task_reattempt(task=task, day=data["date"], actor=actor)
        elif action == "contact":
            task = task_contact_update(task=task, data=ContactInput(**data), actor=actor)
        elif action == "book":
            task = courier_task_book_again(task=task, actor=actor)
        else:
            task = task_return_to_origin(task=task, actor=actor, reason=data["reason"])
    return DONE[action].format(code=task.tracking_code, day=task.date, courier=carrier_name(task.courier))


@permission_required(policy.DELIVERY_VIEW)
def failed_delivery_list(request: HttpRequest) -> HttpResponse:
    """The queue; a POST acts on one stop (`task`, `action`) and, when its input is wrong, shows
    the page again with the errors on that stop's form and nothing stored."""
    actor = request.actor  # type: ignore[attr-defined]
    can_act = may_handle_failed(actor)
    bound: dict[int, dict[str, forms.Form]] = {}
    if request.method == "POST":
        if not can_act:
            raise PermissionDenied(policy.DELIVERY_REQUEST)
        action = request.POST.get("action", "")
        try:
            task = access_task(actor, int(request.POST.get("task", "")), for_update=False)
        except ValueError:
            raise NotFound("No such stop.") from None
        if action not in FORMS:
            messages.error(request, "Unknown action.")
            return redirect(request.path)
        form = FORMS[action](request.POST, auto_id=f"stop-{task.pk}-%s")
        if form.is_valid():
            try:
                messages.success(request, _apply(action, form, task, actor))
                return redirect(request.path)
            except FORM_ERRORS as error:
                if action == "book":  # no input to correct: the reason is the message
                    messages.error(request, error.detail)
                    return redirect(request.path)
                form_add_domain_error(form, error)
        bound[task.pk] = {action: form}
    tasks = list(failed_deliveries(actor)[:SHOWN])
    refused = list(courier_refusals(actor)[:SHOWN])
    for task_id, forms_of in bound.items():  # a stop no longer in the queue: say why it was not done
        if all(task.pk != task_id for task in [*tasks, *refused]):
            for form in forms_of.values():
                for problem in form.non_field_errors():
                    messages.error(request, str(problem))
    context = {
        "rows": [_row(task, bound.get(task.pk, {})) for task in tasks],
        "refused": [_row(task, bound.get(task.pk, {})) for task in refused],
        "can_act": can_act,
        "area": "ops" if actor.is_operator else "portal",
        "shown": SHOWN,
        "max_attempts": settings.ALLIED_MAX_DELIVERY_ATTEMPTS,
    }
    return render(request, "delivery/failed_deliveries.html", context)
