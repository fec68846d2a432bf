"""The dispatcher board through its door: a hub's day, a plan queued and followed to its routes,
lock, publish, move and pin by POST, and only AES dispatch let in."""

from decimal import Decimal

import pytest
from django.utils import timezone

from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.core.address import Address, CoordinatesSource
from allied.delivery.models import DeliveryTask, PlanRun, PlanRunStatus, Route, RouteStatus
from allied.delivery.services.planning import plan_run_execute, plan_run_request
from allied.delivery.services.tasks import delivery_tasks_create
from tests.delivery.factories import HubFactory, RiderFactory, ShiftFactory
from tests.delivery.test_tasks_and_planning import stop
from tests.worker import run_until_quiet

pytestmark = pytest.mark.django_db
DISPATCH = Actor.system("dispatch")
BOARD = "/ops/dispatch/"


@pytest.fixture
def hub():
    return HubFactory()


@pytest.fixture
def dispatcher(operator_org, member, client_for):
    return client_for(member(operator_org, Role.DISPATCHER))


def day_query(hub) -> str:
    return f"?hub={hub.code}&date={timezone.localdate().isoformat()}"


def post(client, hub, **data):
    values = {"hub": hub.code, "date": timezone.localdate().isoformat()} | {k: str(v) for k, v in data.items()}
    return client.post(BOARD, values, follow=True)


def planned_day(partner, hub, riders: int = 2, stops: int = 4) -> list[DeliveryTask]:
    for _ in range(riders):
        ShiftFactory(rider=RiderFactory(hub=hub))
    created = delivery_tasks_create(organization=partner, stops=[stop(n) for n in range(stops)], actor=DISPATCH)
    run = plan_run_request(hub=hub, day=timezone.localdate(), seconds=1, actor=DISPATCH)
    plan_run_execute(run_id=run.pk)
    return created


def no_coordinates(partner) -> DeliveryTask:
    [task] = delivery_tasks_create(
        organization=partner,
        stops=[stop(0, address=Address(line1="Behind the mosque", city="Karachi", area="Lyari"))],
        actor=DISPATCH,
    )
    return task


def test_the_board_shows_the_hubs_day_with_its_stops_not_on_a_route(dispatcher, partner_a, hub) -> None:
    created = delivery_tasks_create(organization=partner_a, stops=[stop(0), stop(1)], actor=DISPATCH)
    lost = no_coordinates(partner_a)

    response = dispatcher.get(BOARD + day_query(hub))

    body = response.content.decode()
    assert response.status_code == 200
    assert f"Plan {hub.code} for" in body
    assert "Plan the day" in body
    assert "Not on a route (3)" in body
    for task in [*created, lost]:
        assert task.tracking_code in body
    assert body.count("Place a pin") == 1, "only the stop without coordinates offers a pin"
    assert 'id="dispatch-map-data"' in body


@pytest.mark.django_db(transaction=True)  # the worker runs the plan as it would in production
def test_a_plan_is_queued_its_progress_polled_and_the_routes_shown_once_done(dispatcher, partner_a, hub) -> None:
    ShiftFactory(rider=RiderFactory(hub=hub))
    created = delivery_tasks_create(organization=partner_a, stops=[stop(n) for n in range(3)], actor=DISPATCH)

    response = post(dispatcher, hub, action="plan", seconds=1)

    run = PlanRun.objects.get()
    assert (run.status, run.seconds, run.hub_id) == (PlanRunStatus.QUEUED, 1, hub.pk)
    assert "the routes show when it is done" in response.content.decode()
    assert 'hx-trigger="every 1s"' in response.content.decode()
    progress = dispatcher.get(BOARD + day_query(hub), headers={"HX-Request": "true", "HX-Target": "plan-progress"})
    assert progress.status_code == 200
    assert "<progress" in progress.content.decode()
    assert "HX-Refresh" not in progress
    assert "<h1>" not in progress.content.decode(), "only the partial"

    run_until_quiet()

    progress = dispatcher.get(BOARD + day_query(hub), headers={"HX-Request": "true", "HX-Target": "plan-progress"})
    assert progress["HX-Refresh"] == "true"
    assert "<progress" not in progress.content.decode()
    body = dispatcher.get(BOARD + day_query(hub)).content.decode()
    route = Route.objects.get()
    assert f"Route 1: {route.rider}" in body
    assert "Re-plan the day" in body
    assert "keeps locked routes, and routes a rider has started" in body
    assert "Not on a route (0)" in body
    assert all(task.tracking_code in body for task in created)
    assert f"{route.distance_m / 1000:.1f} km" in body


def test_a_second_plan_while_one_runs_is_refused_with_a_message(dispatcher, hub) -> None:
    post(dispatcher, hub, action="plan", seconds=5)

    response = post(dispatcher, hub, action="plan", seconds=5)

    assert "is already running" in response.content.decode()
    assert PlanRun.objects.count() == 1


def test_a_plan_with_a_bad_time_limit_stores_nothing(dispatcher, hub) -> None:
    for seconds in ("0", "601", "ten"):
        response = post(dispatcher, hub, action="plan", seconds=seconds)
        assert response.status_code == 200
        text = response.content.decode()
        assert "The plan cannot run." in text
    assert not PlanRun.objects.exists()


def test_lock_unlock_and_publish_by_post(dispatcher, partner_a, hub) -> None:
    planned_day(partner_a, hub, riders=1, stops=2)
    route = Route.objects.get()

    post(dispatcher, hub, action="lock", route=route.pk)
    route.refresh_from_db()
    assert route.locked
    assert "Locked" in dispatcher.get(BOARD + day_query(hub)).content.decode()

    post(dispatcher, hub, action="unlock", route=route.pk)
    route.refresh_from_db()
    assert not route.locked

    response = post(dispatcher, hub, action="publish", route=route.pk)
    route.refresh_from_db()
    assert route.status == RouteStatus.PUBLISHED
    assert f"Published: the route is on {route.rider}" in response.content.decode()


def test_a_stop_moves_to_another_riders_route(dispatcher, partner_a, hub) -> None:
    planned_day(partner_a, hub, riders=1, stops=3)
    task = DeliveryTask.objects.filter(route__isnull=False).first()
    target = Route.objects.create(  # another rider's route of the day (the planner may have used one rider)
        hub=hub, rider=RiderFactory(hub=hub), date=task.date, starts_at=timezone.now(), ends_at=timezone.now()
    )

    response = post(dispatcher, hub, action="move", task=task.pk, route=target.pk)

    task.refresh_from_db()
    assert task.route_id == target.pk
    assert f"{task.tracking_code} moved to the end of" in response.content.decode()
    assert 'aria-label="Stops of route 1, in order"' in response.content.decode()


def test_a_move_to_no_route_is_a_message_and_changes_nothing(dispatcher, partner_a, hub) -> None:
    planned_day(partner_a, hub, riders=1, stops=1)
    task = DeliveryTask.objects.get()

    response = post(dispatcher, hub, action="move", task=task.pk, route="")

    assert "No such route." in response.content.decode()
    assert DeliveryTask.objects.get().route_id == task.route_id


def test_a_pin_places_a_stop_without_coordinates(dispatcher, partner_a, hub) -> None:
    task = no_coordinates(partner_a)

    post(dispatcher, hub, action="pin", task=task.pk, lat="24.8702", lng="67.0551")

    task.refresh_from_db()
    assert (task.address_lat, task.address_lng) == (Decimal("24.870200"), Decimal("67.055100"))
    assert task.address_coordinates_source == CoordinatesSource.PIN
    assert "Place a pin" not in dispatcher.get(BOARD + day_query(hub)).content.decode()


@pytest.mark.parametrize(("lat", "lng", "message"), [("95", "67", "between -90 and 90"), ("x", "67", "degrees")])
def test_a_bad_pin_is_refused_and_nothing_is_stored(dispatcher, partner_a, hub, lat, lng, message) -> None:
    task = no_coordinates(partner_a)

    response = post(dispatcher, hub, action="pin", task=task.pk, lat=lat, lng=lng)

    assert message in response.content.decode()
    task.refresh_from_db()
    assert task.address_lat is None


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER])
def test_a_partner_cannot_open_the_board_nor_act_on_it(partner_a, member, client_for, hub, role) -> None:
    client = client_for(member(partner_a, role))

    assert client.get(BOARD).status_code == 403
    assert client.post(BOARD, {"action": "plan", "hub": hub.code, "seconds": "1"}).status_code == 403
    assert not PlanRun.objects.exists()


def test_support_staff_cannot_open_the_board(operator_org, member, client_for) -> None:
    assert client_for(member(operator_org, Role.SUPPORT)).get(BOARD).status_code == 403


def test_the_board_without_any_hub_says_so(dispatcher) -> None:
    response = dispatcher.get(BOARD)

    assert response.status_code == 200
    assert "No active hub yet" in response.content.decode()
