"""The public tracking page (`/track/<code>`), the recipient's changes behind a one-time code, the
opt-out from delivery messages, and the tracking events the order page shows.

The page is public and cheap: one query for the stop, one for its events, no session, no CSRF
token (so it can be kept for 30 s by the browser), and lookups limited per client address in a
cache that never writes to the database (core/ratelimit.py). An unknown code and a malformed one
get the same answer, byte for byte, after the same single query. Nothing on the page finds a
person: no name, phone or street, no rider's name; places are hubs, areas and cities.
"""

from datetime import date
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import dateformat, timezone
from django.views.decorators.http import require_GET, require_http_methods

from allied.core.errors import FORM_ERRORS, DomainError
from allied.core.forms import form_add_domain_error
from allied.core.pages import NO_CSRF, RenderedPages
from allied.core.ratelimit import READ_LIMITS, over_limit
from allied.core.tracking import TrackingStatus
from allied.delivery.models import DeliveryTask, TrackingEvent
from allied.delivery.notifications import eta_window
from allied.delivery.selectors import public_stop, public_stop_state
from allied.delivery.services.recipient import (
    CODE_TRIES,
    CodeCheck,
    recipient_address_correct,
    recipient_code_check,
    recipient_code_send,
    recipient_instructions_add,
    recipient_may_change,
    recipient_may_reschedule,
    recipient_opt_out,
    recipient_reschedule,
    reschedule_days,
)
from allied.orders.models import Order
from allied.orders.selectors import DeliveryStep
from allied.orders.tracking import tracking_code_normalize
from allied.privacy.templatetags.consent import banner_variant

S = TrackingStatus
# The journey in the words a recipient uses.
PUBLIC_WORDS = {
    S.CREATED: "Order received",
    S.PICKUP_SCHEDULED: "Pickup scheduled",
    S.PICKED_UP: "Picked up",
    S.AT_HUB: "At our local hub",
    S.IN_TRANSIT: "On its way to our hub",
    S.OUT_FOR_DELIVERY: "Out for delivery",
    S.DELIVERED: "Delivered",
    S.ATTEMPT_FAILED: "We could not deliver it",
    S.RESCHEDULED: "Moved to another day",
    S.RETURN_TO_ORIGIN: "Returning to the sender",
    S.RETURNED: "Returned to the sender",
    S.CANCELLED: "Cancelled",
    S.EXCEPTION: "Delayed: we are looking into it",
}
LABELS = dict(TrackingStatus.choices)
FINAL = frozenset({S.DELIVERED, S.RETURNED, S.CANCELLED})
# No arrival to promise: the journey is over, or the next step waits on the recipient or on AES.
NO_ETA = FINAL | {S.RETURN_TO_ORIGIN, S.ATTEMPT_FAILED, S.EXCEPTION}
PUBLIC_CACHE = "private, max-age=30"
PRIVATE_PAGE = "private, no-store"
GRANT_SALT = "allied.delivery.recipient_grant"
GRANT_MAX_AGE = 30 * 60  # after the code: this long to make changes
# The tracking pages lately asked for; a stop's page is kept for each state it was seen in.
tracking_pages = RenderedPages(size=2048)


def status_words(status: str) -> str:
    return PUBLIC_WORDS.get(status, status.replace("_", " ").capitalize())  # type: ignore[call-overload]


# Limits -------------------------------------------------------------------------------------------


def _lookup_limited(request: HttpRequest) -> bool:
    return over_limit(
        request, "track", settings.ALLIED_TRACKING_LOOKUPS, settings.ALLIED_TRACKING_WINDOW_SECONDS, counter=READ_LIMITS
    )


def _too_many(request: HttpRequest) -> HttpResponse:
    response = render(request, "delivery/track_limited.html", NO_CSRF, status=429)
    response["Retry-After"] = str(settings.ALLIED_TRACKING_WINDOW_SECONDS)
    response["Cache-Control"] = PRIVATE_PAGE
    return response


# Finding the stop ---------------------------------------------------------------------------------


def _not_found(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        response = render(request, "delivery/track_lookup.html", {"not_found": True, **NO_CSRF}, status=404)
    else:
        key = ("not found", *banner_variant(request))
        response = tracking_pages.response(
            request, key, lambda: ("delivery/track_lookup.html", {"not_found": True}), status=404
        )
    response["Cache-Control"] = PUBLIC_CACHE
    return response


@require_GET
def track_lookup(request: HttpRequest) -> HttpResponse:
    """The form; a typed code goes to its page (which answers for unknown and malformed alike)."""
    raw = request.GET.get("code", "").strip()
    if raw:
        code = tracking_code_normalize(raw) or "".join(ch for ch in raw if ch.isalnum() or ch == "-")[:64]
        return redirect("track", tracking_code=code or "-")
    response = render(request, "delivery/track_lookup.html", {"not_found": False, **NO_CSRF})
    response["Cache-Control"] = PUBLIC_CACHE
    return response


def _page(task: DeliveryTask) -> tuple[str, dict[str, Any]]:
    events = [
        {"at": event.at, "status": status_words(event.status), "place": event.place}
        for event in TrackingEvent.objects.filter(task_id=task.pk).only("at", "status", "place")
    ]
    return "delivery/track.html", {
        "task": task,
        "brand": task.organization.name,
        "status": status_words(task.status),
        "final": task.status in FINAL,
        "eta": None if task.status in NO_ETA else eta_window(task),
        "missed": task.status == S.ATTEMPT_FAILED,
        "city": task.address_city or task.hub.city,
        "events": list(reversed(events)),
        "may_change": recipient_may_change(task),
        **NO_CSRF,
    }


@require_GET
def track(request: HttpRequest, tracking_code: str) -> HttpResponse:
    """A recipient's page, rendered once per process for each state of the stop (`public_stop_state`
    names all the page shows) and day (its ETA says "today"): a visit costs one query."""
    if _lookup_limited(request):
        return _too_many(request)
    if request.user.is_authenticated:  # an operator's page carries their menu: never shared
        task = public_stop(tracking_code)
        if task is None:
            return _not_found(request)
        template, context = _page(task)
        response = render(request, template, context)
    else:
        state = public_stop_state(tracking_code)
        if state is None:
            return _not_found(request)

        def build() -> tuple[str, dict[str, Any]]:
            task = public_stop(tracking_code)
            if task is None:  # gone since the state was read
                raise Http404
            return _page(task)

        key = (state, timezone.localdate(), *banner_variant(request))
        response = tracking_pages.response(request, key, build)
    response["Cache-Control"] = PUBLIC_CACHE
    return response


# Changing the delivery ----------------------------------------------------------------------------


class CodeForm(forms.Form):
    code = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        label="The 6-digit code from the SMS",
        error_messages={"invalid": "The code is 6 digits.", "required": "Type the code from the SMS."},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 8}),
    )


class RescheduleForm(forms.Form):
    day = forms.TypedChoiceField(label="New delivery day", coerce=date.fromisoformat, empty_value=None)

    def __init__(self, *args: Any, days: list[date], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["day"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(day.isoformat(), dateformat.format(day, "l j F")) for day in days]


class InstructionsForm(forms.Form):
    instructions = forms.CharField(
        label="Your instructions",
        max_length=300,
        help_text="For example: ring the bell twice, leave it with the guard.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AddressForm(forms.Form):
    line1 = forms.CharField(label="House, street and building", max_length=200)
    area = forms.CharField(label="Area", max_length=100, required=False)
    postcode = forms.CharField(label="Postcode", max_length=20, required=False)


def _grant_for(task: DeliveryTask, code_id: int) -> str:
    return signing.dumps({"task": task.pk, "code": code_id}, salt=GRANT_SALT)


def _granted(request: HttpRequest, task: DeliveryTask) -> bool:
    try:
        grant = signing.loads(request.POST.get("grant", ""), salt=GRANT_SALT, max_age=GRANT_MAX_AGE)
    except signing.BadSignature:
        return False
    return isinstance(grant, dict) and grant.get("task") == task.pk


def _change_forms(task: DeliveryTask, data: Any = None, action: str = "") -> dict[str, forms.Form]:
    return {
        "reschedule_form": RescheduleForm(
            data if action == "reschedule" else None, days=reschedule_days(task), prefix="reschedule"
        ),
        "instructions_form": InstructionsForm(data if action == "instructions" else None, prefix="instructions"),
        "address_form": AddressForm(data if action == "address" else None, prefix="address"),
    }


CHANGES = {
    "reschedule": ("reschedule_form", lambda task, data: recipient_reschedule(task=task, day=data["day"])),
    "instructions": (
        "instructions_form",
        lambda task, data: recipient_instructions_add(task=task, text=data["instructions"]),
    ),
    "address": ("address_form", lambda task, data: recipient_address_correct(task=task, **data)),
}
DONE = {
    "reschedule": "Done: your parcel will come on the day you chose.",
    "instructions": "Done: the rider will see your instructions.",
    "address": "Done: we will deliver to the corrected address.",
}


@require_http_methods(["GET", "POST"])
def track_change(request: HttpRequest, tracking_code: str) -> HttpResponse:
    """Ask for a code, type it, then move the day, add instructions or correct the address."""
    if _lookup_limited(request):
        return _too_many(request)
    task = public_stop(tracking_code)
    if task is None:
        return _not_found(request)
    context: dict[str, Any] = {"task": task, "brand": task.organization.name, "stage": "start", "error": ""}
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if not recipient_may_change(task):
        context["stage"] = "closed"
    elif action == "send":
        context.update(_send_code(request, task))
    elif action == "verify":
        context.update(_verify_code(request, task))
    elif action in CHANGES:
        context.update(_change(request, task, action))
    response = render(request, "delivery/track_change.html", context)
    response["Cache-Control"] = PRIVATE_PAGE
    return response


def _send_code(request: HttpRequest, task: DeliveryTask) -> dict[str, Any]:
    if over_limit(request, "track-code", settings.ALLIED_RECIPIENT_CODES_PER_ADDRESS_HOUR, 3600):
        return {"error": "Too many codes were asked for from this connection. Please try again in an hour."}
    try:
        with transaction.atomic(durable=True):
            recipient_code_send(task=task)
    except FORM_ERRORS as error:
        return {"error": error.detail}
    return {"stage": "verify", "code_form": CodeForm()}


def _verify_code(request: HttpRequest, task: DeliveryTask) -> dict[str, Any]:
    form = CodeForm(request.POST)
    if not form.is_valid():
        return {"stage": "verify", "code_form": form}
    with transaction.atomic(durable=True):
        result = recipient_code_check(task=task, code=form.cleaned_data["code"])
    if result.outcome == CodeCheck.OK and result.code is not None:
        return {"stage": "change", "grant": _grant_for(task, result.code.pk), **_context_for_changes(task)}
    if result.outcome == CodeCheck.WRONG:
        left = f"{result.tries_left} {'try' if result.tries_left == 1 else 'tries'} left"
        form.add_error("code", f"That is not the code we sent ({left}).")
        return {"stage": "verify", "code_form": form}
    if result.outcome == CodeCheck.EXHAUSTED:
        return {"error": f"That code was typed wrong {CODE_TRIES} times. Ask for a new code."}
    return {"error": "That code has expired or was already used. Ask for a new code."}


def _context_for_changes(task: DeliveryTask, forms_: dict[str, forms.Form] | None = None) -> dict[str, Any]:
    return {"may_reschedule": recipient_may_reschedule(task), **(forms_ or _change_forms(task))}


def _change(request: HttpRequest, task: DeliveryTask, action: str) -> dict[str, Any]:
    if not _granted(request, task):
        return {"error": "Your code is no longer valid. Ask for a new code to make changes."}
    grant = request.POST["grant"]
    bound = _change_forms(task, request.POST, action)
    form_name, apply = CHANGES[action]
    form = bound[form_name]
    if form.is_valid():
        try:
            with transaction.atomic(durable=True):
                changed = apply(task, form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            return {"stage": "change", "grant": grant, "done": DONE[action], **_context_for_changes(changed)}
    return {"stage": "change", "grant": grant, **_context_for_changes(task, bound)}


@require_http_methods(["GET", "POST"])
def track_stop(request: HttpRequest, tracking_code: str) -> HttpResponse:
    """No more delivery messages to the phone this parcel was sent to."""
    if _lookup_limited(request):
        return _too_many(request)
    task = public_stop(tracking_code)
    if task is None:
        return _not_found(request)
    stopped = False
    if request.method == "POST" and task.contact_phone:
        with transaction.atomic(durable=True):
            recipient_opt_out(
                phone=task.contact_phone, source="link", default_country=task.organization.default_country
            )
        stopped = True
    response = render(request, "delivery/track_stop.html", {"task": task, "stopped": stopped})
    response["Cache-Control"] = PRIVATE_PAGE
    return response


# The order page's delivery timeline ----------------------------------------------------------------


def order_tracking_steps(order: Order) -> list[DeliveryStep]:
    """The tracking events of the order's stops (registered with orders' selector, which hides
    who recorded them from partners)."""
    events = TrackingEvent.objects.filter(task__order_id=order.pk).order_by("at", "id")
    return [
        DeliveryStep(
            at=event.at, status=str(LABELS.get(event.status, event.status)), place=event.place, who=event.actor_label
        )
        for event in events.only("at", "status", "place", "actor_label")
    ]
