"""The last mile for integrators: partners ask for stops and follow them; AES dispatch (its own
`dispatch:manage` keys, decision 0008) runs hubs, riders, shifts, plans and routes."""

from collections.abc import Callable
from datetime import date as Day
from decimal import Decimal
from functools import partial
from uuid import UUID

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Status

from allied.core.address import Address
from allied.core.errors import FieldError, ValidationFailed
from allied.core.pagination import paginate_by_id
from allied.core.schemas import PROBLEM_STATUSES, ProblemSchema
from allied.couriers.models import CourierAccount
from allied.couriers.services import (
    access_courier_account,
    courier_account_connect,
    courier_account_disconnect,
    courier_account_update,
    courier_accounts_visible_to,
)
from allied.delivery.models import DeliveryTask, Hub, PlanRun, Proof, Route, Shift, TaskKind
from allied.delivery.schemas import (
    CourierAccountCreateIn,
    CourierAccountOut,
    CourierAccountUpdateIn,
    DeliveryTaskBulkIn,
    DeliveryTaskCreateIn,
    DeliveryTaskDetailOut,
    DeliveryTaskFilters,
    DeliveryTaskOut,
    DeliveryTaskPageOut,
    HubCreateIn,
    HubOut,
    HubUpdateIn,
    MoveIn,
    PairIn,
    PlanIn,
    PlanRunOut,
    PlanSummaryOut,
    RiderCreateIn,
    RiderFilters,
    RiderOut,
    RouteFilters,
    RouteOut,
    ShiftFilters,
    ShiftIn,
    ShiftOut,
    StopFieldsIn,
    StopIn,
)
from allied.delivery.selectors import (
    access_hub,
    access_plan_run,
    access_rider,
    access_route,
    access_task,
    delivery_tasks_visible_to,
    hubs_visible_to,
    organization_for_stops,
    riders_on_shift,
    riders_visible_to,
    routes_of_day,
    shifts_of,
    tracking_events_of,
)
from allied.delivery.services.couriers import courier_task_book_again
from allied.delivery.services.network import HubInput, hub_create, hub_update, rider_create, shift_set
from allied.delivery.services.planning import (
    plan_run_execute,
    plan_run_request,
    require_dispatch,
    route_lock,
    route_publish,
    task_move,
)
from allied.delivery.services.tasks import PairInput, TaskInput, delivery_tasks_create

router = Router(tags=["Last mile"])
INLINE_PLAN_SECONDS = 10  # up to this, a plan is answered finished; longer ones run in the background


# Hubs ----------------------------------------------------------------------------------------------


@router.get(
    "/hubs",
    response={200: list[HubOut], PROBLEM_STATUSES: ProblemSchema},
    operation_id="hubs_list",
    summary="List hubs",
)
def hubs_list(request: HttpRequest) -> list[Hub]:
    """Every hub, active or not, by code. Needs `dispatch:manage`."""
    return list(hubs_visible_to(request.auth))  # type: ignore[attr-defined]


@router.post(
    "/hubs",
    response={201: HubOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="hubs_create",
    summary="Create a hub",
)
def hubs_create(request: HttpRequest, payload: HubCreateIn) -> Status:
    """A hub riders start from, with the areas it serves (names or postcodes, and/or a polygon) and
    its day. A code another hub has answers 409. Needs `dispatch:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    data = HubInput(**(payload.model_dump() | {"detour_factor": Decimal(str(payload.detour_factor))}))
    with transaction.atomic(durable=True):
        hub = hub_create(data=data, actor=actor)
    return Status(201, access_hub(actor, hub.code))


@router.get(
    "/hubs/{code}",
    response={200: HubOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="hubs_get",
    summary="Get a hub",
)
def hubs_get(request: HttpRequest, code: str) -> Hub:
    """An unknown code answers 404. Needs `dispatch:manage`."""
    return access_hub(request.auth, code)  # type: ignore[attr-defined]


@router.patch(
    "/hubs/{code}",
    response={200: HubOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="hubs_update",
    summary="Change a hub",
)
def hubs_update(request: HttpRequest, code: str, payload: HubUpdateIn) -> Hub:
    """Change the fields you send (not the code); the hub as it would be is checked whole. Needs `dispatch:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    hub = access_hub(actor, code)
    changes = {name: value for name, value in payload.model_dump(exclude_unset=True).items() if value is not None}
    if "detour_factor" in changes:
        changes["detour_factor"] = Decimal(str(changes["detour_factor"]))
    with transaction.atomic(durable=True):
        hub_update(hub=hub, changes=changes, actor=actor)
    return access_hub(actor, code)


# Riders and shifts ---------------------------------------------------------------------------------


@router.get(
    "/riders",
    response={200: list[RiderOut], PROBLEM_STATUSES: ProblemSchema},
    operation_id="riders_list",
    summary="List riders",
)
def riders_list(request: HttpRequest, filters: Query[RiderFilters]) -> list:
    """AES's riders with their hub, vehicle type and capacities. Needs `dispatch:manage`."""
    return list(riders_visible_to(request.auth, hub_code=filters.hub or "")[:500])  # type: ignore[attr-defined]


@router.post(
    "/riders",
    response={201: RiderOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="riders_create",
    summary="Add a rider",
)
def riders_create(request: HttpRequest, payload: RiderCreateIn) -> Status:
    """A rider at a hub on a vehicle type, with their capacities: an AES user with the rider role,
    created by e-mail address (they set a password through a reset) or reused. Needs `dispatch:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    with transaction.atomic(durable=True):
        rider = rider_create(
            email=payload.email,
            full_name=payload.full_name,
            hub_code=payload.hub,
            vehicle_type_code=payload.vehicle_type,
            capacity_parcels=payload.capacity_parcels,
            capacity_kg=Decimal(str(payload.capacity_kg)) if payload.capacity_kg is not None else None,
            fixed_cost=payload.fixed_cost,
            actor=actor,
        )
    return Status(201, access_rider(actor, rider.pk))


@router.put(
    "/riders/{rider_id}/shifts/{date}",
    response={200: ShiftOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="riders_shift_set",
    summary="Set a rider's shift for a day",
)
def riders_shift_set(request: HttpRequest, rider_id: int, date: Day, payload: ShiftIn) -> Shift:
    """When the rider works that day (YYYY-MM-DD, today or later; local times): replaces the day's
    shift if there was one. Plans put routes inside shifts. Needs `dispatch:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    rider = access_rider(actor, rider_id)
    with transaction.atomic(durable=True):
        return shift_set(rider=rider, day=date, start=payload.start, end=payload.end, actor=actor)


@router.get(
    "/riders/{rider_id}/shifts",
    response={200: list[ShiftOut], PROBLEM_STATUSES: ProblemSchema},
    operation_id="riders_shifts_list",
    summary="List a rider's shifts",
)
def riders_shifts_list(request: HttpRequest, rider_id: int, filters: Query[ShiftFilters]) -> list[Shift]:
    """From today (or `since`) on, in order. Needs `dispatch:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    rider = access_rider(actor, rider_id)
    return list(shifts_of(actor, rider, since=filters.since, until=filters.until)[:366])


# Stops ---------------------------------------------------------------------------------------------


def _task_input(stop: StopFieldsIn, kind: str) -> TaskInput:
    return TaskInput(
        kind=kind,
        hub_code=stop.hub.upper(),
        date=stop.date,
        address=Address.given(**stop.address.model_dump()),
        contact_name=stop.contact_name,
        contact_phone=stop.contact_phone,
        window_start=stop.window_start,
        window_end=stop.window_end,
        service_minutes=stop.service_minutes,
        parcels=stop.parcels,
        weight_grams=stop.weight_grams,
        cod_amount=stop.cod_amount,
        instructions=stop.instructions,
        reference=stop.reference,
    )


def _stop_input(stop: StopIn | PairIn) -> TaskInput | PairInput:
    if isinstance(stop, PairIn):
        return PairInput(
            pickup=_task_input(stop.pickup, TaskKind.PICKUP), drop_off=_task_input(stop.drop_off, TaskKind.DROP_OFF)
        )
    return _task_input(stop, stop.kind)


def _created(request: HttpRequest, slug: str, stops: list[TaskInput | PairInput]) -> list[DeliveryTask]:
    actor = request.auth  # type: ignore[attr-defined]
    organization = organization_for_stops(actor, slug)
    with transaction.atomic(durable=True):
        created = delivery_tasks_create(organization=organization, stops=stops, actor=actor)
    codes = [task.tracking_code for task in created]
    by_code = {task.tracking_code: task for task in delivery_tasks_visible_to(actor).filter(tracking_code__in=codes)}
    return [by_code[code] for code in codes]


@router.post(
    "/delivery-tasks",
    response={201: DeliveryTaskOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="delivery_tasks_create",
    summary="Ask for a stop",
)
def delivery_tasks_create_one(request: HttpRequest, payload: DeliveryTaskCreateIn) -> Status:
    """One drop-off or pickup at the hub that serves its address, with its own tracking code. Every
    field is checked at once (422 naming each). Needs `delivery:write` for your own organization,
    or `dispatch:manage` naming the partner in `organization`."""
    stop = _task_input(payload, payload.kind)
    [task] = _created(request, payload.organization, [stop])
    return Status(201, task)


@router.post(
    "/delivery-tasks/bulk",
    response={201: list[DeliveryTaskOut], PROBLEM_STATUSES: ProblemSchema},
    operation_id="delivery_tasks_bulk_create",
    summary="Ask for many stops and paired jobs",
)
def delivery_tasks_bulk_create(request: HttpRequest, payload: DeliveryTaskBulkIn) -> Status:
    """Single stops and paired jobs (collect, then deliver: one rider, pickup first) in one request,
    all or nothing: one bad stop stores none, and each error names its stop (`stops[3].address.lat`,
    `stops[1].drop_off.hub`). Answers the stops in the order sent, a pair as its pickup then its
    drop-off. Needs `delivery:write`, or `dispatch:manage` naming the partner."""
    stops = [_stop_input(stop) for stop in payload.stops]
    return Status(201, _created(request, payload.organization, stops))


@router.get(
    "/delivery-tasks",
    response={200: DeliveryTaskPageOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="delivery_tasks_list",
    summary="List stops",
)
def delivery_tasks_list(request: HttpRequest, filters: Query[DeliveryTaskFilters]) -> dict:
    """Your stops, oldest first, by hub, day and status. AES sees every partner's (filter with
    `organization`). Needs `delivery:read`."""
    tasks = delivery_tasks_visible_to(
        request.auth,  # type: ignore[attr-defined]
        hub_code=filters.hub or "",
        day=filters.date,
        status=filters.status or "",
        organization_slug=filters.organization or "",
    )
    page = paginate_by_id(tasks, cursor=filters.cursor, limit=filters.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get(
    "/delivery-tasks/{tracking_code}",
    response={200: DeliveryTaskDetailOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="delivery_tasks_get",
    summary="Get a stop and its tracking",
)
def delivery_tasks_get(request: HttpRequest, tracking_code: str) -> DeliveryTask:
    """One stop by its tracking code (any case, with or without hyphens) with its tracking events,
    oldest first. Another organization's stop answers 404. Needs `delivery:read`."""
    actor = request.auth  # type: ignore[attr-defined]
    task = access_task(actor, tracking_code, for_update=False)
    task.tracking_events = list(tracking_events_of(actor, task))  # type: ignore[attr-defined]
    proof = Proof.objects.filter(task=task).first()
    task.cod_collected = proof.cod_collected if proof is not None else None  # type: ignore[attr-defined]
    task.cod_collected_by = proof.source if proof is not None else None  # type: ignore[attr-defined]
    task.cod_mismatch = proof is not None and proof.cod_collected != task.cod_amount  # type: ignore[attr-defined]
    return task


@router.post(
    "/delivery-tasks/{tracking_code}/book-again",
    response={200: DeliveryTaskOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="delivery_tasks_book_again",
    summary="Book a refused courier stop again",
)
def delivery_tasks_book_again(request: HttpRequest, tracking_code: str) -> DeliveryTask:
    """After the courier refused a stop (`courier_refusal` says why) and its address or phone was
    corrected, book it with the courier again. It is booked once: asking again while that booking
    is on its way, or once it is booked, changes nothing. A stop that is not a courier's answers 409.
    Needs `delivery:write` for your own stops, or `dispatch:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    task = access_task(actor, tracking_code, for_update=False)
    with transaction.atomic(durable=True):
        courier_task_book_again(task=task, actor=actor)
    return access_task(actor, tracking_code, for_update=False)


@router.post(
    "/delivery-tasks/{tracking_code}/move",
    response={200: DeliveryTaskOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="delivery_tasks_move",
    summary="Move a stop to another route",
)
def delivery_tasks_move(request: HttpRequest, tracking_code: str, payload: MoveIn) -> DeliveryTask:
    """Put the stop at the end of a route of its own hub and day (a paired job moves whole); a stop
    already on its way answers 409. Needs `dispatch:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    access_task(actor, tracking_code, for_update=False)  # another organization's stop is 404, whatever the key
    require_dispatch(actor)
    route = access_route(actor, payload.route_id)
    with transaction.atomic(durable=True):
        task = access_task(actor, tracking_code, for_update=True)
        task_move(task=task, route=route, actor=actor)
    return access_task(actor, tracking_code, for_update=False)


# Plans and routes ----------------------------------------------------------------------------------


def _plan_out(run: PlanRun) -> PlanRunOut:
    summary = PlanSummaryOut.model_validate(run.summary) if run.summary else None
    return PlanRunOut.model_validate(
        {
            "public_id": run.public_id,
            "hub": {"code": run.hub.code},
            **{name: getattr(run, name) for name in ("date", "seconds", "status", "progress", "error")},
            "requested_at": run.requested_at,
            "finished_at": run.finished_at,
            "summary": summary,
        }
    )


@router.post(
    "/hubs/{code}/plans",
    response={200: PlanRunOut, 202: PlanRunOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="plans_create",
    summary="Plan a hub's day",
)
def plans_create(request: HttpRequest, response: HttpResponse, code: str, payload: PlanIn) -> Status:
    """Plan the day's open stops onto the riders on shift; locked routes, and routes already started,
    are kept. With `seconds` up to 10 the answer is the finished plan (200): its routes and every
    stop left out with why. Longer, it is queued (202) and `Location` names the plan to poll. A day
    no rider has a shift on answers 422; a plan of the same day already running, 409. Needs `dispatch:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    hub = access_hub(actor, code)
    if not riders_on_shift(hub, payload.date).exists():
        raise ValidationFailed(
            f"No rider of {hub.code} has a shift on {payload.date}.",
            errors=[FieldError("date", "No rider has a shift that day: set shifts first (PUT /riders/…/shifts/…).")],
        )
    with transaction.atomic(durable=True):
        run = plan_run_request(
            hub=hub,
            day=payload.date,
            seconds=payload.seconds,
            actor=actor,
            in_background=payload.seconds > INLINE_PLAN_SECONDS,
        )
    if payload.seconds <= INLINE_PLAN_SECONDS:
        run = plan_run_execute(run_id=run.pk)
        return Status(200, _plan_out(access_plan_run(actor, run.public_id)))
    response["Location"] = reverse("api:plans_get", kwargs={"plan_id": run.public_id})
    return Status(202, _plan_out(access_plan_run(actor, run.public_id)))


@router.get(
    "/plans/{plan_id}",
    response={200: PlanRunOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="plans_get",
    summary="Get a plan",
    url_name="plans_get",
)
def plans_get(request: HttpRequest, plan_id: UUID) -> PlanRunOut:
    """A plan's status (`queued`, `running`, `done` or `failed`), its progress from 0 to 1, and once
    done its routes and unplanned stops. Needs `dispatch:manage`."""
    return _plan_out(access_plan_run(request.auth, plan_id))  # type: ignore[attr-defined]


@router.get(
    "/hubs/{code}/routes",
    response={200: list[RouteOut], PROBLEM_STATUSES: ProblemSchema},
    operation_id="routes_list",
    summary="List a hub's routes of a day",
)
def routes_list(request: HttpRequest, code: str, filters: Query[RouteFilters]) -> list[Route]:
    """Each route with its rider, status, times, distance and its stops in the order driven (the
    stop's area and city only: the door is on the rider's phone). Needs `dispatch:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    return list(routes_of_day(actor, access_hub(actor, code), filters.date or timezone.localdate()))


def _route_change(request: HttpRequest, route_id: int, change: Callable[..., Route]) -> Route:
    actor = request.auth  # type: ignore[attr-defined]
    route = access_route(actor, route_id)
    with transaction.atomic(durable=True):
        change(route=route, actor=actor)
    return routes_of_day(actor, route.hub, route.date).get(pk=route.pk)


@router.post(
    "/routes/{route_id}/publish",
    response={200: RouteOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="routes_publish",
    summary="Publish a route",
)
def routes_publish(request: HttpRequest, route_id: int) -> Route:
    """Put the route on its rider's phone; a route without stops answers 409. Needs `dispatch:manage`."""
    return _route_change(request, route_id, route_publish)


@router.post(
    "/routes/{route_id}/lock",
    response={200: RouteOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="routes_lock",
    summary="Lock a route",
)
def routes_lock(request: HttpRequest, route_id: int) -> Route:
    """The next plan keeps the route as it is and plans the rest around it. Needs `dispatch:manage`."""
    return _route_change(request, route_id, partial(route_lock, locked=True))


@router.post(
    "/routes/{route_id}/unlock",
    response={200: RouteOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="routes_unlock",
    summary="Unlock a route",
)
def routes_unlock(request: HttpRequest, route_id: int) -> Route:
    """The next plan may change the route again. Needs `dispatch:manage`."""
    return _route_change(request, route_id, partial(route_lock, locked=False))


# Courier accounts ----------------------------------------------------------------------------------


@router.get(
    "/courier-accounts",
    response={200: list[CourierAccountOut], PROBLEM_STATUSES: ProblemSchema},
    operation_id="courier_accounts_list",
    summary="List courier accounts",
)
def courier_accounts_list(request: HttpRequest) -> list[CourierAccount]:
    """AES's connected accounts with courier companies; no credential is ever returned. Needs `dispatch:manage`."""
    return courier_accounts_visible_to(request.auth)  # type: ignore[attr-defined]


@router.post(
    "/courier-accounts",
    response={201: CourierAccountOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="courier_accounts_create",
    summary="Connect a courier account",
)
def courier_accounts_create(request: HttpRequest, payload: CourierAccountCreateIn) -> Status:
    """Connect an account: the courier checks the details first (Pathao exchanges the merchant's
    login for tokens; the password is used once and stored nowhere; Steadfast's keys are tried).
    Details the courier refuses answer 422, a courier that cannot be reached 502; either way nothing
    is stored. Needs `dispatch:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    account = courier_account_connect(
        code=payload.code,
        name=payload.name,
        credentials=payload.credentials,
        areas=payload.areas,
        sandbox=payload.sandbox,
        actor=actor,
    )
    return Status(201, access_courier_account(actor, account.pk, for_update=False))


@router.patch(
    "/courier-accounts/{account_id}",
    response={200: CourierAccountOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="courier_accounts_update",
    summary="Change a courier account",
)
def courier_accounts_update(request: HttpRequest, account_id: int, payload: CourierAccountUpdateIn) -> CourierAccount:
    """Change the areas it serves, or pause (`active: false`: nothing new is booked through it, its
    parcels are still tracked) and resume it. Needs `dispatch:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    account = access_courier_account(actor, account_id, for_update=False)
    with transaction.atomic(durable=True):
        courier_account_update(account=account, areas=payload.areas, is_active=payload.active, actor=actor)
    return access_courier_account(actor, account_id, for_update=False)


@router.delete(
    "/courier-accounts/{account_id}",
    response={204: None, PROBLEM_STATUSES: ProblemSchema},
    operation_id="courier_accounts_delete",
    summary="Disconnect a courier account",
)
def courier_accounts_delete(request: HttpRequest, account_id: int) -> Status:
    """Wipe its credentials: nothing more is booked, tracked or accepted through it. It is no longer
    listed; a second delete answers 404. Needs `dispatch:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    account = access_courier_account(actor, account_id, for_update=False)
    with transaction.atomic(durable=True):
        courier_account_disconnect(account=account, actor=actor)
    return Status(204, None)
