"""The last mile through the REST API with real keys: AES dispatch (its own `dispatch:manage` key)
builds the network, partners and dispatch ask for stops, dispatch plans and publishes; bad input
is refused whole, and partners reach neither the network nor each other's stops."""

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from allied.accounts.policy import Actor
from allied.accounts.services import api_key_create
from allied.delivery.models import DeliveryTask, Hub, PlanRun, Rider, Route, RouteStatus, Shift, TrackingEvent
from tests.delivery.factories import vehicle
from tests.worker import run_until_quiet

API = "/api/v1"
TODAY = timezone.localdate
# Around PECHS, Karachi: a few kilometres from the hub.
SPOTS = [(24.873, 67.06), (24.8805, 67.081), (24.85, 67.05), (24.866, 67.095), (24.89, 67.07), (24.845, 67.075)]


def post(client: Client, path: str, body: Any, method: str = "POST") -> Any:
    return client.generic(method, API + path, json.dumps(body), content_type="application/json")


def stop(n: int = 0, **changes: Any) -> dict[str, Any]:
    lat, lng = SPOTS[n % len(SPOTS)]
    return {
        "hub": "KHI-H1",
        "date": TODAY().isoformat(),
        "address": {"line1": f"House {n + 1}, Street 4", "area": "PECHS", "city": "Karachi", "lat": lat, "lng": lng},
        "contact_name": "Hina Baig",
        "contact_phone": "0300 1112233",
        "cod_amount": "1500.00",
    } | changes


HUB = {
    "code": "KHI-H1",
    "name": "Karachi Central Hub",
    "address_line1": "PECHS Block 6",
    "city": "Karachi",
    "lat": 24.8615,
    "lng": 67.0699,
}


@pytest.fixture
def dispatch(operator_org) -> Client:
    """A client with AES's own dispatch key (decision 0008)."""
    _, raw_key = api_key_create(
        organization=operator_org, name="dispatch script", scopes=["dispatch:manage"], actor=Actor.system("tests")
    )
    return Client(headers={"Authorization": f"Bearer {raw_key}"})


@pytest.fixture
def partner(partner_a, api_client_for: Callable[..., Client]) -> Client:
    return api_client_for(partner_a, ["delivery:read", "delivery:write"])


def build_network(dispatch: Client, *, riders: int = 1, day: str | None = None) -> list[int]:
    vehicle("motorbike")  # seeded by the migration, which a flushed (transactional) test database lacks
    hub = post(dispatch, "/hubs", HUB | {"code": "khi-h1", "detour_factor": 1.3})
    assert hub.status_code == 201, hub.content
    ids = []
    for n in range(riders):
        rider = post(
            dispatch,
            "/riders",
            {"email": f"rider{n}@aes.example", "full_name": f"Rider {n}", "hub": "KHI-H1", "vehicle_type": "motorbike"},
        )
        assert rider.status_code == 201, rider.content
        shift = post(
            dispatch,
            f"/riders/{rider.json()['id']}/shifts/{day or TODAY().isoformat()}",
            {"start": "08:00", "end": "20:00"},
            "PUT",
        )
        assert shift.status_code == 200, shift.content
        ids.append(rider.json()["id"])
    return ids


@pytest.mark.django_db
def test_a_day_from_an_empty_network_to_published_routes(dispatch, partner, partner_a) -> None:
    [rider_id] = build_network(dispatch)
    assert dispatch.get(f"{API}/riders/{rider_id}/shifts").json() == [
        {"date": TODAY().isoformat(), "start": "08:00:00", "end": "20:00:00"}
    ]
    assert dispatch.get(f"{API}/riders").json()[0]["vehicle_type"]["code"] == "motorbike"

    single = post(partner, "/delivery-tasks", stop(0, window_start="09:00", window_end="13:00"))
    pair = {"pickup": stop(1, reference="SHOP-7"), "drop_off": stop(2)}
    bulk = post(dispatch, "/delivery-tasks/bulk", {"organization": partner_a.slug, "stops": [stop(3), pair]})
    assert single.status_code == 201, single.content
    assert single.json()["contact_phone"] == "+923001112233"
    assert bulk.status_code == 201, bulk.content
    kinds = [(task["kind"], task["pickup_tracking_code"]) for task in bulk.json()]
    pickup_code = bulk.json()[1]["tracking_code"]
    assert kinds == [("drop_off", None), ("pickup", None), ("drop_off", pickup_code)]
    assert {task["organization"] for task in bulk.json()} == {partner_a.slug}

    planned = post(dispatch, "/hubs/KHI-H1/plans", {"date": TODAY().isoformat(), "seconds": 1})

    assert planned.status_code == 200, planned.content
    run = planned.json()
    assert (run["status"], run["progress"], run["summary"]["unplanned"]) == ("done", 1.0, [])
    assert dispatch.get(f"{API}/plans/{run['id']}").json() == run
    [route] = dispatch.get(f"{API}/hubs/KHI-H1/routes", {"date": TODAY().isoformat()}).json()
    assert route["rider"]["id"] == rider_id
    assert [s["sequence"] for s in route["stops"]] == [1, 2, 3, 4]
    arrivals = [s["planned_arrival"] for s in route["stops"]]
    assert arrivals == sorted(arrivals)
    codes = [s["tracking_code"] for s in route["stops"]]
    assert codes.index(pickup_code) < codes.index(bulk.json()[2]["tracking_code"])
    assert {"area": "PECHS", "city": "Karachi"}.items() <= route["stops"][0].items()
    assert "House" not in json.dumps(route)

    published = post(dispatch, f"/routes/{route['id']}/publish", {})
    locked = post(dispatch, f"/routes/{route['id']}/lock", {})

    assert published.json()["status"] == RouteStatus.PUBLISHED
    assert locked.json()["locked"] is True
    assert post(dispatch, f"/routes/{route['id']}/unlock", {}).json()["locked"] is False
    tracked = partner.get(f"{API}/delivery-tasks/{single.json()['tracking_code'].lower()}").json()
    assert [event["status"] for event in tracked["events"]] == ["at_hub"]
    assert tracked["sequence"] is not None


@pytest.mark.django_db
def test_stops_are_listed_by_filter_a_page_at_a_time(dispatch, partner, partner_a) -> None:
    build_network(dispatch)
    post(partner, "/delivery-tasks/bulk", {"stops": [stop(n) for n in range(3)]})
    post(partner, "/delivery-tasks", stop(4, kind="pickup"))

    first = partner.get(f"{API}/delivery-tasks", {"hub": "KHI-H1", "date": TODAY().isoformat(), "limit": 2}).json()
    second = partner.get(f"{API}/delivery-tasks", {"limit": 2, "cursor": first["next_cursor"]}).json()
    pickups = partner.get(f"{API}/delivery-tasks", {"status": "pickup_scheduled"}).json()

    assert len(first["items"]) == 2
    assert len(second["items"]) == 2
    assert second["next_cursor"] is None
    assert [task["kind"] for task in pickups["items"]] == ["pickup"]
    assert partner.get(f"{API}/delivery-tasks", {"date": "31-01-2026"}).status_code == 422


@pytest.mark.django_db
def test_a_stop_moves_to_another_riders_route(dispatch, partner_a) -> None:
    build_network(dispatch, riders=2)
    created = post(
        dispatch, "/delivery-tasks/bulk", {"organization": partner_a.slug, "stops": [stop(n) for n in range(4)]}
    )
    post(dispatch, "/hubs/KHI-H1/plans", {"date": TODAY().isoformat(), "seconds": 1})
    routes = {route.pk: route for route in Route.objects.all()}
    task = DeliveryTask.objects.get(tracking_code=created.json()[0]["tracking_code"])
    target = next((pk for pk in routes if pk != task.route_id), task.route_id)

    moved = post(dispatch, f"/delivery-tasks/{task.tracking_code}/move", {"route_id": target})

    assert moved.status_code == 200, moved.content
    task.refresh_from_db()
    assert task.route_id == target
    assert moved.json()["sequence"] == task.sequence


@pytest.mark.django_db(transaction=True)
def test_a_long_plan_is_queued_and_polled_until_done(dispatch, partner) -> None:
    build_network(dispatch)
    post(partner, "/delivery-tasks/bulk", {"stops": [stop(n) for n in range(3)]})

    queued = post(dispatch, "/hubs/KHI-H1/plans", {"date": TODAY().isoformat(), "seconds": 11})

    assert queued.status_code == 202, queued.content
    assert queued.json()["status"] == "queued"
    assert queued.json()["summary"] is None
    location = queued["Location"]
    assert location == f"{API}/plans/{queued.json()['id']}"
    again = post(dispatch, "/hubs/KHI-H1/plans", {"date": TODAY().isoformat(), "seconds": 11})
    assert again.status_code == 409
    run_until_quiet()
    done = dispatch.get(location).json()
    assert (done["status"], done["progress"]) == ("done", 1.0)
    assert len(done["summary"]["routes"]) == 1
    assert done["summary"]["stops"] == 3


def _fields(response: Any) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        (stop(0, address={"line1": "House 1", "city": "Karachi", "lat": 91, "lng": 67}), "address.lat"),
        (stop(0, address={"line1": "House 1", "city": "Karachi", "lat": 24, "lng": 181}), "address.lng"),
        (stop(0, window_start="14:00", window_end="12:00"), "window_end"),
        (stop(0, window_start="25:00", window_end="26:00"), "window_start"),
        (stop(0, hub="NOPE"), "hub"),
        (stop(0, date="2026-02-30"), "date"),
        (stop(0, date=(TODAY() - timedelta(days=1)).isoformat()), "date"),
        (stop(0, contact_phone="12345"), "contact_phone"),
        (stop(0, address={"line1": "House 1", "city": "Lahore"}), "address"),
    ],
)
def test_a_bad_stop_is_a_422_naming_its_field_and_nothing_is_stored(dispatch, partner, body, field) -> None:
    build_network(dispatch)

    single = post(partner, "/delivery-tasks", body)
    bulk = post(partner, "/delivery-tasks/bulk", {"stops": [stop(1), stop(2), stop(3), body]})

    assert single.status_code == 422, single.content
    assert field in _fields(single)
    assert bulk.status_code == 422
    assert f"stops[3].{field}" in _fields(bulk)
    assert not DeliveryTask.objects.exists()
    assert not TrackingEvent.objects.exists()


@pytest.mark.django_db
def test_a_pair_across_two_hubs_is_refused_whole(dispatch, partner) -> None:
    build_network(dispatch)
    post(dispatch, "/hubs", HUB | {"code": "KHI-H2", "name": "East", "lat": 24.92, "lng": 67.1})
    pair = {"pickup": stop(0), "drop_off": stop(1, hub="KHI-H2")}

    refused = post(partner, "/delivery-tasks/bulk", {"stops": [stop(2), pair]})

    assert refused.status_code == 422
    assert _fields(refused) == ["stops[1].drop_off.hub"]
    assert not DeliveryTask.objects.exists()


@pytest.mark.django_db
def test_aes_must_name_the_partner_and_a_partner_only_itself(dispatch, partner, partner_b) -> None:
    build_network(dispatch)

    unnamed = post(dispatch, "/delivery-tasks", stop())
    unknown = post(dispatch, "/delivery-tasks", stop() | {"organization": "no-such-partner"})
    other = post(partner, "/delivery-tasks", stop() | {"organization": partner_b.slug})

    assert (unnamed.status_code, _fields(unnamed)) == (422, ["organization"])
    assert (unknown.status_code, _fields(unknown)) == (422, ["organization"])
    assert other.status_code == 404
    assert not DeliveryTask.objects.exists()


@pytest.mark.django_db
def test_bad_network_input_is_refused_and_stores_nothing(dispatch) -> None:
    hub = HUB
    bad_hubs = [
        (hub | {"lat": 95}, "lat"),
        (hub | {"detour_factor": 0.8}, "detour_factor"),
        (hub | {"service_polygon": [[24.8, 67.0], [24.9, 67.0]]}, "service_polygon"),
        (hub | {"service_polygon": [[24.8, 67.0], [24.9, 67.0], [24.9, 200]]}, "service_polygon[2]"),
        (hub | {"day_start": "20:00", "day_end": "08:00"}, "day_end"),
    ]
    for body, field in bad_hubs:
        answer = post(dispatch, "/hubs", body)
        assert answer.status_code == 422, (field, answer.content)
        assert field in _fields(answer)
    assert not Hub.objects.exists()

    build_network(dispatch, riders=0)
    taken = post(dispatch, "/hubs", hub)
    rider = {"email": "r@aes.example", "full_name": "R", "hub": "KHI-H1", "vehicle_type": "van"}
    bad_rider = post(dispatch, "/riders", rider | {"vehicle_type": "rocket", "capacity_parcels": 0})
    no_hub = post(dispatch, "/riders", rider | {"hub": "NOPE"})
    assert taken.status_code == 409
    assert bad_rider.status_code == 422
    assert no_hub.status_code == 422
    assert _fields(no_hub) == ["hub"]
    assert not Rider.objects.exists()
    assert post(dispatch, "/hubs/KHI-H1", {"day_end": "07:00"}, "PATCH").status_code == 422
    assert Hub.objects.get().day_end.hour == 20
    assert post(dispatch, "/hubs/KHI-H1", {"name": "Renamed"}, "PATCH").json()["name"] == "Renamed"


@pytest.mark.django_db
def test_unknown_hubs_are_404_and_bad_dates_422(dispatch) -> None:
    [rider_id] = build_network(dispatch)
    today = TODAY().isoformat()

    assert dispatch.get(f"{API}/hubs/NOPE").status_code == 404
    assert post(dispatch, "/hubs/NOPE/plans", {"date": today, "seconds": 1}).status_code == 404
    assert dispatch.get(f"{API}/hubs/NOPE/routes", {"date": today}).status_code == 404
    assert post(dispatch, "/hubs/NOPE", {"name": "X"}, "PATCH").status_code == 404
    assert dispatch.get(f"{API}/plans/00000000-0000-0000-0000-000000000000").status_code == 404
    assert dispatch.get(f"{API}/riders/999999/shifts").status_code == 404
    assert post(dispatch, "/routes/999999/publish", {}).status_code == 404

    assert (
        post(dispatch, f"/riders/{rider_id}/shifts/2026-13-45", {"start": "08:00", "end": "16:00"}, "PUT").status_code
        == 422
    )
    assert dispatch.get(f"{API}/hubs/KHI-H1/routes", {"date": "tomorrow"}).status_code == 422
    assert dispatch.get(f"{API}/hubs/KHI-H1/routes").json() == []  # today's, none planned yet
    assert post(dispatch, "/hubs/KHI-H1/plans", {"date": "31/01/2026", "seconds": 1}).status_code == 422
    yesterday = (TODAY() - timedelta(days=1)).isoformat()
    shift = post(dispatch, f"/riders/{rider_id}/shifts/{yesterday}", {"start": "08:00", "end": "16:00"}, "PUT")
    backwards = post(dispatch, f"/riders/{rider_id}/shifts/{today}", {"start": "16:00", "end": "08:00"}, "PUT")
    assert (shift.status_code, _fields(shift)) == (422, ["date"])
    assert (backwards.status_code, _fields(backwards)) == (422, ["end"])
    assert Shift.objects.get().start.hour == 8


@pytest.mark.django_db
def test_a_day_without_a_rider_on_shift_cannot_be_planned(dispatch, partner) -> None:
    build_network(dispatch)
    tomorrow = (TODAY() + timedelta(days=1)).isoformat()
    post(partner, "/delivery-tasks", stop(date=tomorrow))

    answer = post(dispatch, "/hubs/KHI-H1/plans", {"date": tomorrow, "seconds": 1})

    assert answer.status_code == 422
    assert _fields(answer) == ["date"]
    assert "No rider" in answer.json()["detail"]
    assert not PlanRun.objects.exists()


@pytest.mark.django_db
def test_a_partner_reaches_neither_the_network_nor_another_partners_stops(
    dispatch, partner, partner_b, api_client_for
) -> None:
    [rider_id] = build_network(dispatch)
    [foreign] = post(dispatch, "/delivery-tasks/bulk", {"organization": partner_b.slug, "stops": [stop()]}).json()
    post(dispatch, "/hubs/KHI-H1/plans", {"date": TODAY().isoformat(), "seconds": 1})
    route_id = Route.objects.get().pk
    today = TODAY().isoformat()

    refused = [
        partner.get(f"{API}/hubs"),
        post(partner, "/hubs", {"code": "X1", "name": "X", "address_line1": "X", "city": "X", "lat": 1, "lng": 1}),
        post(partner, "/hubs/KHI-H1", {"name": "Mine"}, "PATCH"),
        partner.get(f"{API}/riders"),
        post(partner, "/riders", {"email": "a@b.example", "full_name": "A", "hub": "KHI-H1", "vehicle_type": "van"}),
        post(partner, f"/riders/{rider_id}/shifts/{today}", {"start": "08:00", "end": "09:00"}, "PUT"),
        post(partner, "/hubs/KHI-H1/plans", {"date": today, "seconds": 1}),
        partner.get(f"{API}/hubs/KHI-H1/routes", {"date": today}),
        post(partner, f"/routes/{route_id}/publish", {}),
        post(partner, f"/routes/{route_id}/lock", {}),
    ]
    assert [answer.status_code for answer in refused] == [403] * len(refused)

    own = post(partner, "/delivery-tasks", stop(1)).json()
    assert partner.get(f"{API}/delivery-tasks/{foreign['tracking_code']}").status_code == 404
    assert post(partner, f"/delivery-tasks/{foreign['tracking_code']}/move", {"route_id": route_id}).status_code == 404
    assert post(partner, f"/delivery-tasks/{own['tracking_code']}/move", {"route_id": route_id}).status_code == 403
    listed = partner.get(f"{API}/delivery-tasks").json()["items"]
    assert [task["tracking_code"] for task in listed] == [own["tracking_code"]]
    reader = api_client_for(partner_b, ["delivery:read"])
    assert post(reader, "/delivery-tasks", stop(2)).status_code == 403
    assert reader.get(f"{API}/delivery-tasks/{foreign['tracking_code']}").status_code == 200
    assert Route.objects.get().status == RouteStatus.DRAFT
    assert Hub.objects.get().name == "Karachi Central Hub"
