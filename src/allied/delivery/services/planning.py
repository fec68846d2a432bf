"""Planning a hub's day: its open stops and its riders on shift become a routing problem for the
planner (`delivery/routing`), and the plan comes back as routes with their stops in order and
planned arrivals. Locked routes, and routes a rider has already started, are kept as they are;
every stop left out says why. Dispatchers then move stops, lock routes and publish them."""

import time as clock
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from allied.accounts.policy import DELIVERY_MANAGE, Actor, require
from allied.core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from allied.core.tracking import TrackingStatus
from allied.delivery import routing
from allied.delivery.models import (
    DeliveryTask,
    Hub,
    PlanRun,
    PlanRunStatus,
    Rider,
    Route,
    RouteStatus,
    Shift,
    TaskKind,
)
from allied.delivery.services.tracking import tracking_event_record

S = TrackingStatus
PLANNABLE = (S.CREATED, S.AT_HUB, S.PICKUP_SCHEDULED, S.RESCHEDULED, S.ATTEMPT_FAILED)
STARTED = (S.OUT_FOR_DELIVERY, S.PICKED_UP, S.DELIVERED, S.ATTEMPT_FAILED, S.IN_TRANSIT)
MAX_PLAN_SECONDS = 600


def require_dispatch(actor: Actor) -> None:
    """Hubs, riders, plans and routes are AES's own to manage."""
    require(actor, DELIVERY_MANAGE)
    if not actor.is_operator:
        raise PermissionDenied("Only AES dispatch may do this.")


def seconds_of(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def at_seconds(day: date, seconds: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time())) + timedelta(seconds=seconds)


@dataclass(frozen=True)
class DayProblem:
    problem: routing.Problem
    tasks: dict[str, DeliveryTask]
    riders: dict[str, Rider]
    kept: dict[str, list[DeliveryTask]]  # rider key -> the stops of a route kept as it is


def _day_problem(hub: Hub, day: date) -> DayProblem:
    kept_routes = {
        route.pk: route
        for route in Route.objects.filter(hub=hub, date=day)
        if route.locked or route.stops.filter(status__in=STARTED).exists()
    }
    tasks = list(
        DeliveryTask.objects.filter(hub=hub, date=day, courier="")
        .filter(status__in=PLANNABLE)
        .exclude(route_id__in=list(kept_routes))
        .order_by("pk")
    )
    kept: dict[str, list[DeliveryTask]] = {}
    for route in kept_routes.values():
        on_route = list(route.stops.exclude(status__in=(S.DELIVERED, S.CANCELLED)).order_by("sequence"))
        kept[str(route.rider_id)] = on_route
        tasks += on_route
    shifts = Shift.objects.filter(date=day, rider__hub=hub, rider__is_active=True).select_related(
        "rider__vehicle_type", "rider__user"
    )
    riders = {str(shift.rider_id): shift.rider for shift in shifts}
    problem = _problem(
        hub,
        tasks,
        list(shifts),
        locked={rider: tuple(str(task.pk) for task in on_route) for rider, on_route in kept.items() if rider in riders},
    )
    return DayProblem(problem, {str(task.pk): task for task in tasks}, riders, kept)


def _problem(
    hub: Hub, tasks: list[DeliveryTask], shifts: list[Shift], *, locked: dict[str, tuple[str, ...]]
) -> routing.Problem:
    """The planner's view of a hub's stops and riders on shift: the model translation, in one place."""
    vehicles = tuple(
        routing.Vehicle(
            key=str(shift.rider_id),
            shift_start=seconds_of(shift.start),
            shift_end=seconds_of(shift.end),
            speed_kmh=float(shift.rider.vehicle_type.speed_kmh),
            capacity_parcels=shift.rider.capacity_parcels,
            capacity_weight_g=int(shift.rider.capacity_kg * 1000),
            fixed_cost=shift.rider.fixed_cost,
            vehicle_type=shift.rider.vehicle_type.code,
        )
        for shift in shifts
    )
    stops = tuple(
        routing.Stop(
            key=str(task.pk),
            point=(
                routing.Point(float(task.address_lat), float(task.address_lng))
                if task.address_lat is not None and task.address_lng is not None
                else None
            ),
            kind="pickup" if task.kind in (TaskKind.PICKUP, TaskKind.RETURN_PICKUP) else "delivery",
            window_start=seconds_of(task.window_start or hub.day_start),
            window_end=seconds_of(task.window_end or hub.day_end),
            service=task.service_minutes * 60,
            parcels=task.parcels,
            weight_g=task.weight_grams,
            pickup_key=str(task.pickup_id) if task.pickup_id else None,
        )
        for task in tasks
    )
    return routing.Problem(
        depot=routing.Point(float(hub.lat), float(hub.lng)),
        stops=stops,
        vehicles=vehicles,
        travel=routing.HaversineTravel(detour_factor=float(hub.detour_factor)),
        locked=locked,
    )


def _route_retimed(route: Route) -> list[str]:
    """Time a route as its stops stand now (after a dispatcher moved one): planned arrivals,
    distance and duration, without re-ordering anything. Returns what no longer holds (a window
    missed, a capacity exceeded), for the dispatcher to see."""
    shift = Shift.objects.filter(rider=route.rider, date=route.date).select_related("rider__vehicle_type").first()
    tasks = list(route.stops.order_by("sequence", "pk"))
    if shift is None or not tasks:
        return []
    keys = tuple(str(task.pk) for task in tasks)
    problem = _problem(route.hub, tasks, [shift], locked={str(route.rider_id): keys})
    plan = routing.plan(problem, seconds=1)
    for timed in plan.routes:
        for stop in timed.stops:
            DeliveryTask.objects.filter(pk=int(stop.key)).update(planned_arrival=at_seconds(route.date, stop.arrival))
        Route.objects.filter(pk=route.pk).update(
            distance_m=timed.distance_m,
            duration_s=timed.duration_s,
            starts_at=at_seconds(route.date, timed.start),
            ends_at=at_seconds(route.date, timed.end),
        )
    return plan.violations


@transaction.atomic(savepoint=False)
def plan_run_request(*, hub: Hub, day: date, seconds: int, actor: Actor, in_background: bool = True) -> PlanRun:
    """Ask for a plan of the hub's day with a time limit: queued for a worker (the board and the
    API poll the run), or, `in_background=False`, for the caller to run with `plan_run_execute`."""
    from allied.delivery import tasks

    require_dispatch(actor)
    errors = []
    if not 1 <= seconds <= MAX_PLAN_SECONDS:
        errors.append(FieldError("seconds", f"Between 1 and {MAX_PLAN_SECONDS} seconds."))
    if day < timezone.localdate():
        errors.append(FieldError("date", "The day has passed."))
    if errors:
        raise ValidationFailed("The plan cannot run.", errors=errors)
    running = PlanRun.objects.filter(hub=hub, date=day, status__in=[PlanRunStatus.QUEUED, PlanRunStatus.RUNNING])
    if running.exists():
        raise Conflict(f"A plan of {hub.code} for {day} is already running.")
    run = PlanRun.objects.create(hub=hub, date=day, seconds=seconds, requested_by=actor.label)
    if in_background:
        tasks.plan_hub_day.enqueue(run.pk)
    return run


def plan_run_execute(*, run_id: int) -> PlanRun:
    """Solve outside any transaction (it takes the run's time limit), reporting progress on the
    run; then store the routes in one short transaction."""
    run = PlanRun.objects.select_related("hub").get(pk=run_id)
    claimed = PlanRun.objects.filter(pk=run.pk, status=PlanRunStatus.QUEUED).update(
        status=PlanRunStatus.RUNNING, progress=0
    )
    if not claimed:  # done, failed, or being solved by someone else: solved once
        return run
    day = _day_problem(run.hub, run.date)
    last_write = [0.0]

    def report(fraction: float) -> None:
        now = clock.monotonic()
        if now - last_write[0] >= 0.5:
            last_write[0] = now
            PlanRun.objects.filter(pk=run.pk).update(progress=min(1.0, max(0.0, fraction)))

    try:
        plan = routing.plan(
            day.problem, seconds=run.seconds, searches=settings.ALLIED_PLANNER_SEARCHES, progress=report
        )
        summary = _store(run, day, plan)
    except Exception as failure:
        PlanRun.objects.filter(pk=run.pk).update(
            status=PlanRunStatus.FAILED, error=f"{type(failure).__name__}: {failure}"[:2000], finished_at=timezone.now()
        )
        raise
    PlanRun.objects.filter(pk=run.pk).update(
        status=PlanRunStatus.DONE, progress=1, summary=summary, finished_at=timezone.now()
    )
    run.refresh_from_db()
    return run


@transaction.atomic(savepoint=False)
def _store(run: PlanRun, day: DayProblem, plan: routing.Plan) -> dict[str, Any]:
    hub, date_ = run.hub, run.date
    planned: set[str] = set()
    routes_out: list[dict[str, Any]] = []
    for planned_route in plan.routes:
        rider = day.riders[planned_route.vehicle_key]
        route, _ = Route.objects.update_or_create(
            rider=rider,
            date=date_,
            defaults={
                "hub": hub,
                "starts_at": at_seconds(date_, planned_route.start),
                "ends_at": at_seconds(date_, planned_route.end),
                "distance_m": planned_route.distance_m,
                "duration_s": planned_route.duration_s,
            },
        )
        for sequence, stop in enumerate(planned_route.stops, start=1):
            DeliveryTask.objects.filter(pk=int(stop.key)).update(
                route=route,
                sequence=sequence,
                planned_arrival=at_seconds(date_, stop.arrival),
                unplanned_reason="",
            )
            planned.add(stop.key)
        routes_out.append(
            {
                "route_id": route.pk,
                "rider": str(rider),
                "stops": len(planned_route.stops),
                "distance_m": planned_route.distance_m,
                "duration_s": planned_route.duration_s,
                "locked": planned_route.locked,
            }
        )
    used = [int(route["route_id"]) for route in routes_out]
    for unserved in plan.unserved:
        DeliveryTask.objects.filter(pk=int(unserved.key)).update(
            route=None, sequence=None, planned_arrival=None, unplanned_reason=unserved.reason[:200]
        )
    stale = Route.objects.filter(hub=hub, date=date_, locked=False).exclude(pk__in=used)
    DeliveryTask.objects.filter(route__in=stale).update(route=None, sequence=None, planned_arrival=None)
    stale.delete()
    return {
        "routes": routes_out,
        "unplanned": [
            {"task_id": int(u.key), "tracking_code": day.tasks[u.key].tracking_code, "reason": u.reason}
            for u in plan.unserved
        ],
        "objective": plan.objective,
        "feasible": plan.feasible,
        "violations": plan.violations,
        "runtime_s": round(plan.runtime_s, 2),
        "searches": plan.searches,
        "stops": len(day.tasks),
        "riders": len(day.riders),
    }


@transaction.atomic(savepoint=False)
def route_publish(*, route: Route, actor: Actor) -> Route:
    """Put the route on the rider's phone: its stops become out for delivery as the rider sets off
    (`rider_route_start`); until then they wait at the hub."""
    require_dispatch(actor)
    route = Route.objects.select_for_update().get(pk=route.pk)
    if not route.stops.exists():
        raise Conflict("The route has no stops.")
    route.status, route.published_at = RouteStatus.PUBLISHED, timezone.now()
    route.save(update_fields=["status", "published_at"])
    return route


@transaction.atomic(savepoint=False)
def route_lock(*, route: Route, locked: bool, actor: Actor) -> Route:
    """A locked route is kept as it is by the next plan, which re-optimises the rest around it."""
    require_dispatch(actor)
    Route.objects.filter(pk=route.pk).update(locked=locked)
    route.refresh_from_db()
    return route


@transaction.atomic(savepoint=False)
def task_move(*, task: DeliveryTask, route: Route, actor: Actor) -> DeliveryTask:
    """Put a stop at the end of another rider's route (a paired job moves whole); both routes are
    timed again as they now stand (arrivals, distance, duration)."""
    require_dispatch(actor)
    if route.hub_id != task.hub_id or route.date != task.date:
        raise ValidationFailed(
            "The stop cannot go on that route.",
            errors=[FieldError("route", "A stop moves only to a route of its own hub and day.")],
        )
    if task.status not in PLANNABLE:
        raise Conflict(f"The stop is {TrackingStatus(task.status).label.lower()}: it cannot move.")
    halves = [task]
    if task.pickup_id:
        halves.insert(0, DeliveryTask.objects.get(pk=task.pickup_id))
    elif hasattr(task, "paired_drop_off"):
        halves.append(task.paired_drop_off)
    left = {half.route_id for half in halves} - {None, route.pk}
    last = route.stops.aggregate(last=Max("sequence"))["last"] or 0
    for offset, half in enumerate(halves, start=1):
        DeliveryTask.objects.filter(pk=half.pk).update(
            route=route, sequence=last + offset, planned_arrival=None, unplanned_reason=""
        )
    for changed in Route.objects.filter(pk__in=[route.pk, *left]).select_related("hub", "rider"):
        _route_retimed(changed)
    task.refresh_from_db()
    return task


def access_hub(code: str) -> Hub:
    try:
        return Hub.objects.get(code=code, is_active=True)
    except Hub.DoesNotExist:
        raise NotFound(f"No hub {code!r}.") from None


@transaction.atomic(savepoint=False)
def rider_route_start(*, route: Route, actor: Actor) -> Route:
    """The rider leaves the hub: each drop-off of the route is out for delivery."""
    route = Route.objects.select_for_update().get(pk=route.pk)
    if route.status != RouteStatus.PUBLISHED:
        raise Conflict("Only a published route can start.")
    for task in route.stops.filter(kind=TaskKind.DROP_OFF, status__in=PLANNABLE, pickup__isnull=True):
        tracking_event_record(task=task, status=S.OUT_FOR_DELIVERY, actor=actor, place=route.hub.name)
    return route
