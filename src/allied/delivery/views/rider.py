"""The rider app (under /ops/rider/): the day's run sheet, each stop with its way there and its
actions, and the hand-back at the hub; an installable web app whose actions wait on the phone
while it is offline and are sent as JSON to `rider_actions` once it is back, each applied once."""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode
from uuid import UUID, uuid4

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from allied.accounts import policy
from allied.accounts.decorators import permission_required
from allied.accounts.policy import Actor
from allied.core.errors import FORM_ERRORS, DomainError, FieldError, NotFound, Problem, ValidationFailed
from allied.core.problems import problem_response
from allied.core.tracking import TrackingStatus
from allied.delivery.models import DeliveryTask, FailureReason, HandBack, Route, RouteStatus, TaskKind, TrackingEvent
from allied.delivery.services.planning import PLANNABLE
from allied.delivery.services.rider import (
    DeliveryCodeRejected,
    ProofInput,
    access_rider_stop,
    decimal_or_none,
    delivery_code_try_record,
    hand_back_expected,
    photo_from_data_url,
    proof_level,
    rider_delivery_code_send,
    rider_handback,
    rider_pickup_scan,
    rider_route_of_day,
    rider_run_start,
    rider_stop_deliver,
    rider_stop_fail,
)

S = TrackingStatus
# What the service worker keeps for offline use besides the pages the rider opens.
OFFLINE_ASSETS = (
    "allied/allied.css",
    "allied/favicon.svg",
    "allied/scanner.js",
    "delivery/rider/rider.css",
    "delivery/rider/rider.js",
    "delivery/rider/icon-192.png",
)
MAX_ACTION_BYTES = 8 * 1024 * 1024  # a photo taken offline travels in the JSON, base64
EARLIER_HAND_BACKS = 10  # shown under the day's hand-back, newest first


def _rider_area(request: HttpRequest) -> Actor:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    if not actor.is_operator:
        raise NotFound("Not found.")
    return actor


# What the pages show -------------------------------------------------------------------------


@dataclass(frozen=True)
class StopView:
    task: DeliveryTask

    @property
    def number(self) -> int | str:
        return self.task.sequence or "—"

    @property
    def planned(self) -> str:
        arrival = self.task.planned_arrival
        return f"{timezone.localtime(arrival):%H:%M}" if arrival else ""

    @property
    def area(self) -> str:
        return self.task.address_area or self.task.address_city

    @property
    def first_name(self) -> str:
        return (self.task.contact_name.split() or ["Recipient"])[0]

    @property
    def masked_phone(self) -> str:
        phone = self.task.contact_phone
        return f"{phone[:3]} ••• ••{phone[-3:]}" if len(phone) > 6 else "•••"

    @property
    def cod_due(self) -> Decimal:
        return self.task.cod_amount if self.task.kind == TaskKind.DROP_OFF else Decimal("0")

    @property
    def is_pickup(self) -> bool:
        return self.task.kind in (TaskKind.PICKUP, TaskKind.RETURN_PICKUP)

    @property
    def can_deliver(self) -> bool:
        return self.task.kind == TaskKind.DROP_OFF and self.task.status == S.OUT_FOR_DELIVERY

    @property
    def can_pick_up(self) -> bool:
        return self.is_pickup and self.task.status == S.PICKUP_SCHEDULED

    @property
    def can_fail(self) -> bool:
        return self.can_deliver or self.can_pick_up

    @property
    def done(self) -> bool:
        return self.task.status in (S.DELIVERED, S.ATTEMPT_FAILED, S.PICKED_UP, S.CANCELLED)

    @property
    def navigation(self) -> dict[str, str]:
        """Links that open the phone's map app (geo:), OpenStreetMap and Google Maps."""
        task = self.task
        if task.address_lat is not None and task.address_lng is not None:
            lat, lng = f"{task.address_lat:f}", f"{task.address_lng:f}"
            label = quote(self.area or task.tracking_code)
            return {
                "geo": f"geo:{lat},{lng}?q={lat},{lng}({label})",
                "osm": f"https://www.openstreetmap.org/?mlat={lat}&mlon={lng}#map=18/{lat}/{lng}",
                "google": "https://www.google.com/maps/dir/?" + urlencode({"api": "1", "destination": f"{lat},{lng}"}),
            }
        place = task.address.one_line
        return {
            "geo": f"geo:0,0?q={quote(place)}",
            "osm": "https://www.openstreetmap.org/search?" + urlencode({"query": place}),
            "google": "https://www.google.com/maps/search/?" + urlencode({"api": "1", "query": place}),
        }


def _can_start(route: Route | None, stops: list[DeliveryTask]) -> bool:
    return (
        route is not None
        and route.status == RouteStatus.PUBLISHED
        and any(s.kind == TaskKind.DROP_OFF and s.status in PLANNABLE and not s.pickup_id for s in stops)
    )


# Applying an action: the one entry point for forms and the offline queue ---------------------


@dataclass(frozen=True)
class Outcome:
    message: str
    task: DeliveryTask | None = None
    replayed: bool = False

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": True, "message": self.message, "replayed": self.replayed}
        if self.task is not None:
            body |= {
                "stop": str(self.task.public_id),
                "status": self.task.status,
                "status_label": S(self.task.status).label,
            }
        return body


def _uuid(value: Any, field: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise ValidationFailed("The request is not complete.", errors=[FieldError(field, "Not an id.")]) from None


def _proof(data: Mapping[str, Any], photo: bytes | None) -> ProofInput:
    def number(name: str) -> Decimal | None:
        raw = data.get(name)
        return Decimal(str(raw)) if raw not in (None, "") and _is_number(raw) else None

    return ProofInput(
        recipient_name=str(data.get("recipient_name", ""))[:300],
        signature_svg=str(data.get("signature_svg", "")),
        photo=photo,
        code=str(data.get("code", ""))[:12],
        cod_collected=decimal_or_none(data.get("cod_collected"), "cod_collected"),
        lat=number("lat"),
        lng=number("lng"),
    )


def _is_number(raw: Any) -> bool:
    try:
        return -180 <= float(raw) <= 180
    except (TypeError, ValueError):
        return False


def _apply(actor: Actor, data: Mapping[str, Any], photo: bytes | None) -> Outcome:
    """Run one rider action in its own transaction; a wrong delivery code is counted after the
    rollback, so that the recipient's code locks after five wrong tries."""
    action = str(data.get("action", ""))
    if action == "start":
        route = rider_route_of_day(actor, timezone.localdate())
        if route is None:
            raise NotFound("You have no route today.")
        with transaction.atomic(durable=True):
            rider_run_start(route=route, actor=actor)
        out = route.stops.filter(status=S.OUT_FOR_DELIVERY).count()
        return Outcome(f"Route started: {out} parcels out for delivery.")
    if action not in {"deliver", "fail", "pickup", "code"}:
        raise ValidationFailed("Unknown action.", errors=[FieldError("action", "deliver, fail, pickup or code.")])
    task = access_rider_stop(actor, _uuid(data.get("stop"), "stop"), for_update=False)
    if action == "code":
        with transaction.atomic(durable=True):
            rider_delivery_code_send(task=task, actor=actor)
        return Outcome(f"Code sent to {StopView(task).first_name} by SMS.", task)
    action_id = _uuid(data.get("client_action_id"), "client_action_id")
    replayed = TrackingEvent.objects.filter(client_action_id=action_id).exists()
    try:
        with transaction.atomic(durable=True):
            if action == "deliver":
                rider_stop_deliver(task=task, proof=_proof(data, photo), client_action_id=action_id, actor=actor)
                message = f"Delivered {task.tracking_code}."
            elif action == "fail":
                reason = str(data.get("reason", ""))
                note = str(data.get("note", ""))[:150]
                rider_stop_fail(task=task, reason=reason, note=note, client_action_id=action_id, actor=actor)
                message = f"Attempt failed: {FailureReason(reason).label.lower()}."
            else:
                code = str(data.get("code", ""))[:40]
                rider_pickup_scan(task=task, code=code, client_action_id=action_id, actor=actor)
                message = f"Picked up {task.tracking_code}."
    except DeliveryCodeRejected as rejected:
        with transaction.atomic(durable=True):
            delivery_code_try_record(code_id=int(rejected.extra["code_id"]))
        raise
    task.refresh_from_db()
    return Outcome(message, task, replayed)


def _form_errors(error: DomainError) -> list[str]:
    return [e.message for e in error.errors] or [error.detail]


# Pages ---------------------------------------------------------------------------------------


@permission_required(policy.DELIVERY_RECORD)
def run_sheet(request: HttpRequest) -> HttpResponse:
    """The day's stops in the planned order, with what to collect; start the route from here."""
    actor = _rider_area(request)
    if request.method == "POST":
        try:
            outcome = _apply(actor, {"action": "start"}, None)
        except FORM_ERRORS as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, outcome.message)
        return redirect("rider_run_sheet")
    route = rider_route_of_day(actor, timezone.localdate())
    stops = list(route.stops.order_by("sequence", "pk")) if route else []
    views = [StopView(task) for task in stops]
    context = {
        "route": route,
        "stops": views,
        "can_start": _can_start(route, stops),
        "cod_to_collect": sum((v.cod_due for v in views if v.task.status not in (S.DELIVERED,)), Decimal("0")),
        "left": sum(1 for v in views if not v.done),
        "handed_back": route is not None and HandBack.objects.filter(route=route).exists(),
        "client_action_id": uuid4(),
    }
    return render(request, "delivery/rider/run_sheet.html", context)


@permission_required(policy.DELIVERY_RECORD)
def stop_page(request: HttpRequest, stop_id: UUID) -> HttpResponse:
    """One stop: how to get there, whom to call, and deliver, fail or collect it."""
    actor = _rider_area(request)
    task = access_rider_stop(actor, stop_id, for_update=False)
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("photo")
        try:
            if upload is not None and upload.size and upload.size > settings.ALLIED_PROOF_PHOTO_MAX_BYTES:
                raise ValidationFailed("Too large.", errors=[FieldError("photo", "The photo is too large.")])
            photo = upload.read() if upload is not None and upload.size else None
            data = dict(request.POST.items()) | {"stop": str(task.public_id)}
            outcome = _apply(actor, data, photo)
        except FORM_ERRORS as error:
            errors = _form_errors(error)
        else:
            messages.success(request, outcome.message)
            if data.get("action") == "code":
                return redirect("rider_stop", stop_id=task.public_id)
            return redirect("rider_run_sheet")
        task = access_rider_stop(actor, stop_id, for_update=False)
    stop = StopView(task)
    context = {
        "stop": stop,
        "task": task,
        "level": proof_level(task),
        "reasons": FailureReason.choices,
        "errors": errors,
        "action_ids": {"deliver": uuid4(), "fail": uuid4(), "pickup": uuid4()},
        "proof": getattr(task, "proof", None),
    }
    return render(request, "delivery/rider/stop.html", context)


@permission_required(policy.DELIVERY_RECORD)
def hand_back(request: HttpRequest) -> HttpResponse:
    """End of the day at the hub: what the rider should hand over, and what they do."""
    actor = _rider_area(request)
    route = rider_route_of_day(actor, timezone.localdate())
    errors: list[str] = []
    if request.method == "POST" and route is not None:
        try:
            handed_cash = decimal_or_none(request.POST.get("handed_cash"), "handed_cash")
            parcels = request.POST.get("handed_parcels", "").strip()
            if handed_cash is None or not parcels.isdigit():
                raise ValidationFailed(
                    "Say what you hand over.",
                    errors=[FieldError("handed_cash", "Count the cash and the parcels you hand over.")],
                )
            with transaction.atomic(durable=True):
                rider_handback(
                    route=route,
                    handed_cash=handed_cash,
                    handed_parcels=int(parcels),
                    note=request.POST.get("note", "")[:500],
                    client_action_id=_uuid(request.POST.get("client_action_id"), "client_action_id"),
                    actor=actor,
                )
        except FORM_ERRORS as error:
            errors = _form_errors(error)
        else:
            messages.success(request, "Hand-back recorded.")
            return redirect("rider_hand_back")
    elif request.method == "POST":
        messages.error(request, "You have no route today.")
    record = HandBack.objects.filter(route=route).select_related("settlement").first() if route else None
    # The rider's own flagged hand-backs of the last weeks, and how each was settled.
    earlier = (
        HandBack.objects.filter(route__rider__user=actor.user, flagged=True)
        .exclude(route=route)
        .select_related("route", "settlement")
        .order_by("-at")[:EARLIER_HAND_BACKS]
        if actor.user is not None
        else []
    )
    context = {
        "route": route,
        "record": record,
        "earlier": list(earlier),
        "expected": hand_back_expected(route) if route and record is None else None,
        "errors": errors,
        "client_action_id": uuid4(),
    }
    return render(request, "delivery/rider/hand_back.html", context)


@require_POST
@permission_required(policy.DELIVERY_RECORD)
def actions(request: HttpRequest) -> HttpResponse:
    """The offline queue's door: one action as JSON, answered 200 with the stop's new status
    (also when the same action id comes again) or a problem+json 4xx the phone shows the rider."""
    actor = _rider_area(request)
    if len(request.body) > MAX_ACTION_BYTES:
        return problem_response(request, Problem(413, "Too large", "The photo is too large.", "too_large"))
    try:
        data = json.loads(request.body)
        if not isinstance(data, dict):
            raise ValueError
    except ValueError:
        return problem_response(request, Problem(400, "Not JSON", "Send the action as a JSON object.", "bad_json"))
    try:
        photo = photo_from_data_url(str(data["photo"])) if data.get("photo") else None
        outcome = _apply(actor, data, photo)
    except DomainError as error:
        return problem_response(request, Problem.from_error(error))
    return JsonResponse(outcome.as_dict())


# The installable app -------------------------------------------------------------------------


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from /ops/rider/ so that it may control the rider's pages (a worker's scope is its
    own folder); the code itself is a static file it imports."""
    config = {
        "assets": [static(path) for path in OFFLINE_ASSETS],
        "scope": reverse("rider_run_sheet"),
        "offline": reverse("rider_run_sheet"),
    }
    body = f"self.RIDER_CONFIG = {json.dumps(config)};\nimportScripts({json.dumps(static('delivery/rider/sw.js'))});\n"
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    home = reverse("rider_run_sheet")
    body = {
        "name": "Allied Rider",
        "short_name": "Rider",
        "description": "The day's stops, proof of delivery and cash, also without a connection.",
        "id": home,
        "start_url": home,
        "scope": home,
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#f5f7fa",
        "theme_color": "#1f4e79",
        "icons": [
            {"src": static("delivery/rider/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("delivery/rider/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("delivery/rider/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    return JsonResponse(body, content_type="application/manifest+json")
