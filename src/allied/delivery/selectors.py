"""Reads of the last mile, scoped to the caller: a partner sees its own stops and their tracking;
hubs, riders, shifts, routes and plan runs are AES dispatch's (`require_dispatch`), and whoever
else asks for one is refused before anything is looked up."""

from datetime import date
from functools import cache
from uuid import UUID

from django.db import connection
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone

from allied.accounts.models import Organization
from allied.accounts.policy import DELIVERY_VIEW, Actor, require
from allied.accounts.roles import OrganizationKind
from allied.core import sql
from allied.core.errors import FieldError, NotFound, ValidationFailed
from allied.delivery.models import DeliveryTask, Hub, PlanRun, Rider, Route, Shift, TrackingEvent
from allied.delivery.services.planning import require_dispatch
from allied.orders.tracking import tracking_code_normalize


def delivery_tasks_visible_to(
    actor: Actor,
    *,
    hub_code: str = "",
    day: date | None = None,
    status: str = "",
    organization_slug: str = "",
) -> QuerySet[DeliveryTask]:
    """AES sees every partner's stops; a partner only its own organization's."""
    require(actor, DELIVERY_VIEW)
    tasks = DeliveryTask.objects.visible_to(actor).select_related("organization", "hub", "pickup")
    if hub_code:
        tasks = tasks.filter(hub__code=hub_code.strip().upper())
    if day is not None:
        tasks = tasks.filter(date=day)
    if status:
        tasks = tasks.filter(status=status)
    if organization_slug:
        tasks = tasks.filter(organization__slug=organization_slug)
    return tasks


def access_task(actor: Actor, tracking_code: str, *, for_update: bool) -> DeliveryTask:
    """A stop by its tracking code, as typed or scanned; 404 for anything the caller cannot see."""
    code = tracking_code_normalize(tracking_code)
    tasks = delivery_tasks_visible_to(actor).filter(tracking_code=code or "")
    if for_update:
        tasks = tasks.select_for_update(of=("self",), no_key=True)
    task = tasks.order_by("-pk").first() if code else None  # a code names one stop; the newest wins
    if task is None:
        raise NotFound(f"No stop {tracking_code}.")
    return task


def tracking_events_of(actor: Actor, task: DeliveryTask) -> QuerySet[TrackingEvent]:
    require(actor, DELIVERY_VIEW)
    return TrackingEvent.objects.visible_to(actor).filter(task=task).order_by("at", "pk")


def organization_for_stops(actor: Actor, slug: str) -> Organization:
    """Whose stops a caller asks for: a partner's own (naming another partner is 404); AES must
    name the partner, by its slug."""
    if not actor.is_operator:
        if slug and (actor.organization is None or slug != actor.organization.slug):
            raise NotFound("No such organization.")
        return actor.organization
    if not slug:
        raise ValidationFailed(
            "Say whose stops these are.",
            errors=[FieldError("organization", "AES names the partner the stops are for, by its slug.")],
        )
    partner = Organization.objects.filter(slug=slug, kind=OrganizationKind.PARTNER, is_active=True).first()
    if partner is None:
        raise ValidationFailed(
            "Say whose stops these are.", errors=[FieldError("organization", f"No active partner {slug!r}.")]
        )
    return partner


def hubs_visible_to(actor: Actor) -> QuerySet[Hub]:
    require_dispatch(actor)
    return Hub.objects.all()


def access_hub(actor: Actor, code: str) -> Hub:
    """Any hub, active or not, by its code (in any case)."""
    hub = hubs_visible_to(actor).filter(code=code.strip().upper()).first()
    if hub is None:
        raise NotFound(f"No hub {code!r}.")
    return hub


def riders_visible_to(actor: Actor, *, hub_code: str = "") -> QuerySet[Rider]:
    require_dispatch(actor)
    riders = Rider.objects.select_related("user", "hub", "vehicle_type")
    if hub_code:
        riders = riders.filter(hub__code=hub_code.strip().upper())
    return riders


def access_rider(actor: Actor, rider_id: int) -> Rider:
    rider = riders_visible_to(actor).filter(pk=rider_id).first()
    if rider is None:
        raise NotFound("No such rider.")
    return rider


def shifts_of(actor: Actor, rider: Rider, *, since: date | None = None, until: date | None = None) -> QuerySet[Shift]:
    """The rider's shifts from `since` (today unless given) to `until`, in order."""
    require_dispatch(actor)
    shifts = Shift.objects.filter(rider=rider, date__gte=since or timezone.localdate())
    if until is not None:
        shifts = shifts.filter(date__lte=until)
    return shifts.order_by("date")


def riders_on_shift(hub: Hub, day: date) -> QuerySet[Rider]:
    return Rider.objects.filter(hub=hub, is_active=True, shifts__date=day)


def routes_of_day(actor: Actor, hub: Hub, day: date) -> QuerySet[Route]:
    """The hub's routes of the day, each with its rider and its stops in the order they are driven."""
    require_dispatch(actor)
    stops = DeliveryTask.objects.order_by("sequence", "pk")
    return (
        Route.objects.filter(hub=hub, date=day)
        .select_related("rider__user", "rider__vehicle_type", "hub")
        .prefetch_related(Prefetch("stops", queryset=stops))
        .order_by("starts_at", "pk")
    )


def access_route(actor: Actor, route_id: int) -> Route:
    require_dispatch(actor)
    route = Route.objects.filter(pk=route_id).select_related("hub", "rider__user", "rider__vehicle_type").first()
    if route is None:
        raise NotFound("No such route.")
    return route


def access_plan_run(actor: Actor, public_id: UUID) -> PlanRun:
    require_dispatch(actor)
    run = PlanRun.objects.filter(public_id=public_id).select_related("hub").first()
    if run is None:
        raise NotFound("No such plan.")
    return run


# Public tracking -----------------------------------------------------------------------------------


def _public_stops(raw_code: str) -> QuerySet[DeliveryTask]:
    """The stop with this code, newest first, looked for the same way whether or not the code is
    well formed (a malformed one looks for the empty code, which no stop has), so neither the
    answer nor its time tells the two apart."""
    return _stops_with_code(_looked_for(raw_code))


def _looked_for(raw_code: str) -> str:
    return tracking_code_normalize(raw_code) or ""


def _stops_with_code(code: str) -> QuerySet[DeliveryTask]:
    return DeliveryTask.objects.filter(tracking_code=code).order_by("-created_at", "-id")


def public_stop(raw_code: str) -> DeliveryTask | None:
    return _public_stops(raw_code).select_related("organization", "hub").first()


# Everything the public tracking page shows of a stop, but its events, which only ever grow: the
# newest one's id stands for them.
PUBLIC_STATE = (
    "pk",
    "tracking_code",
    "status",
    "date",
    "planned_arrival",
    "address_city",
    "organization__name",
    "hub__city",
)
_CODE = "public-stop-state-code"


@cache
def _public_stop_state_sql(vendor: str) -> str:
    """The ORM's statement for the state, compiled once: every anonymous visit of a tracking page
    asks, and through the ORM the question costs more than the rendering it saves."""
    newest_event = TrackingEvent.objects.filter(task=OuterRef("pk")).order_by("-id").values("id")[:1]
    stops = _stops_with_code(_CODE).annotate(newest_event=Subquery(newest_event))
    query = stops.values_list(*PUBLIC_STATE, "newest_event")[:1].query
    statement, params = query.sql_with_params()
    if list(params) != [_CODE]:
        raise AssertionError(f"The tracking state's statement takes the code alone, not {params!r}.")
    return statement


def public_stop_state(raw_code: str) -> tuple[object, ...] | None:
    """What the tracking page of this code shows, as a key that changes whenever the page would,
    in one lean query (docs/benchmarks.md, Website); None for no such stop. Looked for as
    `_public_stops` looks."""
    rows = sql.fetch(_public_stop_state_sql(connection.vendor), [_looked_for(raw_code)])
    return rows[0] if rows else None
