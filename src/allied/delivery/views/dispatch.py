"""The dispatcher board: one hub's day. The stops no route takes (and why the last plan left them
out), a plan run and its progress, then each rider's route with its stops in order, and the
actions on them: plan or re-plan, lock, publish, move a stop, place a pin. The map is drawn by
`delivery/dispatch.js` from the same data as the lists; every list and action works without it."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from allied.accounts import policy
from allied.accounts.decorators import permission_required
from allied.accounts.policy import Actor
from allied.core.errors import FORM_ERRORS, DomainError, FieldError, NotFound, ValidationFailed
from allied.delivery.models import DeliveryTask, HandBack, Hub, PlanRun, PlanRunStatus, Route, RouteStatus
from allied.delivery.services.couriers import courier_cod_mismatches, courier_refusals
from allied.delivery.services.failed import access_task, task_place_pin
from allied.delivery.services.planning import (
    MAX_PLAN_SECONDS,
    PLANNABLE,
    plan_run_request,
    require_dispatch,
    route_lock,
    route_publish,
    task_move,
)
from allied.delivery.services.tasks import service_day

# One colour per route, in the order the board lists them; each is dark enough for white digits
# on a map marker, and the lists repeat it beside the rider's name (never as the only cue).
ROUTE_COLOURS = ("#1f77b4", "#c0392b", "#2e7d32", "#7b3fa0", "#b35900", "#00796b", "#8c564b", "#ad1457")
ACTIVE_RUN = (PlanRunStatus.QUEUED, PlanRunStatus.RUNNING)
DEFAULT_PLAN_SECONDS = 10


@dataclass
class RouteCard:
    route: Route
    colour: str
    number: int
    stops: list[DeliveryTask] = field(default_factory=list)

    @property
    def distance(self) -> str:
        return f"{self.route.distance_m / 1000:.1f} km"

    @property
    def duration(self) -> str:
        minutes = round(self.route.duration_s / 60)
        return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"

    @property
    def is_draft(self) -> bool:
        return self.route.status == RouteStatus.DRAFT


def _day(text: str, hub: Hub | None) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return service_day(hub) if hub is not None else timezone.localdate()


def _board_url(hub: Hub | None, day: date) -> str:
    query = {"date": day.isoformat()} | ({"hub": hub.code} if hub is not None else {})
    return f"{reverse('dispatch_board')}?{urlencode(query)}"


def _point(task: DeliveryTask) -> list[float] | None:
    if task.address_lat is None or task.address_lng is None:
        return None
    return [float(task.address_lat), float(task.address_lng)]


def _stop_label(task: DeliveryTask) -> str:
    return f"{task.tracking_code} · {task.contact_name} · {task.address_area or task.address_city}"


def _board(actor: Actor, hub: Hub, day: date) -> dict[str, Any]:
    """What the board shows of a hub's day, and the same as map data for the script."""
    routes = Route.objects.filter(hub=hub, date=day).select_related("rider__user").order_by("rider__user__full_name")
    cards = [
        RouteCard(route, ROUTE_COLOURS[index % len(ROUTE_COLOURS)], index + 1) for index, route in enumerate(routes)
    ]
    by_route = {card.route.pk: card for card in cards}
    for task in DeliveryTask.objects.filter(route__in=list(by_route)).order_by("route_id", "sequence", "pk"):
        by_route[task.route_id].stops.append(task)  # type: ignore[index]
    unassigned = list(
        DeliveryTask.objects.filter(hub=hub, date=day, courier="", route__isnull=True, status__in=PLANNABLE).order_by(
            "pk"
        )
    )
    map_data = {
        "hub": {"name": hub.name, "point": [float(hub.lat), float(hub.lng)]},
        "routes": [
            {
                "label": f"Route {card.number}: {card.route.rider}",
                "colour": card.colour,
                "stops": [  # numbered as the list numbers them: by place on the route
                    {"n": place, "point": _point(task), "label": _stop_label(task)}
                    for place, task in enumerate(card.stops, start=1)
                    if _point(task) is not None
                ],
            }
            for card in cards
        ],
        "unassigned": [
            {"id": task.pk, "point": _point(task), "label": _stop_label(task)}
            for task in unassigned
            if _point(task) is not None
        ],
    }
    hand_backs = sorted(
        HandBack.objects.filter(route__in=routes).select_related("route__rider__user", "settlement"),
        key=lambda record: (not _needs_attention(record), record.at),
    )
    return {
        "cards": cards,
        "unassigned": unassigned,
        "map_data": map_data,
        "hand_backs": hand_backs,
        "refused": list(courier_refusals(actor).filter(hub=hub)[:50]),
        "cod_mismatches": list(courier_cod_mismatches(hub)[:50]),
    }


def _needs_attention(record: HandBack) -> bool:
    return record.flagged and not hasattr(record, "settlement")


def _run_context(run: PlanRun | None) -> dict[str, Any]:
    active = run is not None and run.status in ACTIVE_RUN
    return {"run": run, "run_active": active, "percent": round((run.progress if run else 0) * 100)}


@permission_required(policy.DELIVERY_MANAGE)
def dispatch_board(request: HttpRequest) -> HttpResponse:
    """A hub's day for AES dispatch. Its progress partial is polled every second while a plan
    runs; once the run is over the answer asks htmx to reload the board, which then shows the
    routes."""
    actor = request.actor  # type: ignore[attr-defined]
    require_dispatch(actor)
    if request.method == "POST":
        return _act(request, actor)
    hubs = list(Hub.objects.filter(is_active=True))
    hub = next((h for h in hubs if h.code == request.GET.get("hub")), hubs[0] if hubs else None)
    day = _day(request.GET.get("date", ""), hub)
    run = PlanRun.objects.filter(hub=hub, date=day).first() if hub is not None else None
    context: dict[str, Any] = {"hubs": hubs, "hub": hub, "day": day} | _run_context(run)
    if request.htmx and request.htmx.target == "plan-progress":  # type: ignore[attr-defined]
        response = render(request, "delivery/dispatch.html#progress", context)
        if run is None or run.status not in ACTIVE_RUN:
            response["HX-Refresh"] = "true"
        return response
    if hub is not None:
        context |= _board(actor, hub, day)
        context |= {
            "has_routes": bool(context["cards"]),
            "seconds": DEFAULT_PLAN_SECONDS,
            "max_seconds": MAX_PLAN_SECONDS,
            "today": timezone.localdate(),
        }
    return render(request, "delivery/dispatch.html", context)


def _number(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise NotFound(f"No such {what}.") from None


def _route(text: str) -> Route:
    try:
        return Route.objects.select_related("hub", "rider__user").get(pk=_number(text, "route"))
    except Route.DoesNotExist:
        raise NotFound("No such route.") from None


def _degrees(text: str, name: str) -> Decimal:
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        raise ValidationFailed("The pin was not placed.", errors=[FieldError(name, "A number of degrees.")]) from None


def _plan(request: HttpRequest, actor: Actor, hub: Hub | None, day: date) -> str:
    if hub is None:
        raise ValidationFailed("The plan cannot run.", errors=[FieldError("hub", "Choose a hub.")])
    seconds = request.POST.get("seconds", "").strip()
    if not seconds.isdigit():
        raise ValidationFailed("The plan cannot run.", errors=[FieldError("seconds", "A whole number of seconds.")])
    plan_run_request(hub=hub, day=day, seconds=int(seconds), actor=actor)
    return f"Planning {hub.code} for {day:%a %d %b}: the routes show when it is done."


def _lock(request: HttpRequest, actor: Actor, locked: bool) -> str:
    route = route_lock(route=_route(request.POST.get("route", "")), locked=locked, actor=actor)
    return f"The route of {route.rider} is {'locked: a re-plan keeps it' if locked else 'unlocked'}."


def _publish(request: HttpRequest, actor: Actor) -> str:
    route = route_publish(route=_route(request.POST.get("route", "")), actor=actor)
    return f"Published: the route is on {route.rider}'s phone."


def _move(request: HttpRequest, actor: Actor) -> str:
    task = access_task(actor, _number(request.POST.get("task", ""), "stop"), for_update=False)
    route = _route(request.POST.get("route", ""))
    task_move(task=task, route=route, actor=actor)
    return f"{task.tracking_code} moved to the end of {route.rider}'s route."


def _pin(request: HttpRequest, actor: Actor) -> str:
    task = access_task(actor, _number(request.POST.get("task", ""), "stop"), for_update=False)
    lat, lng = _degrees(request.POST.get("lat", ""), "lat"), _degrees(request.POST.get("lng", ""), "lng")
    task_place_pin(task=task, lat=lat, lng=lng, actor=actor)
    return f"Pin placed for {task.tracking_code}: the next plan can route it."


def _error_text(error: DomainError) -> str:
    details = "; ".join(dict.fromkeys(field_error.message for field_error in error.errors))
    return f"{error.detail} {details}".strip()


def _act(request: HttpRequest, actor: Actor) -> HttpResponse:
    hub = Hub.objects.filter(code=request.POST.get("hub", ""), is_active=True).first()
    day = _day(request.POST.get("date", ""), hub)
    action = request.POST.get("action", "")
    try:
        with transaction.atomic(durable=True):
            if action == "plan":
                done = _plan(request, actor, hub, day)
            elif action in ("lock", "unlock"):
                done = _lock(request, actor, action == "lock")
            elif action == "publish":
                done = _publish(request, actor)
            elif action == "move":
                done = _move(request, actor)
            elif action == "pin":
                done = _pin(request, actor)
            else:
                raise ValidationFailed("Unknown action.")
    except FORM_ERRORS as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, done)
    return redirect(_board_url(hub, day))
