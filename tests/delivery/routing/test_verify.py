"""verify() finds each kind of broken rule in hand-made plans."""

from dataclasses import replace

import pytest

from allied.delivery.routing import Plan, PlannedStop, Route, Unserved, plan, verify
from tests.delivery.routing.helpers import HOUR, east, motorbike, problem, stop

STOPS = [
    stop("shop", east(2), kind="pickup", parcels=2, weight_g=1_000),
    stop("customer", east(3), pickup_key="shop", parcels=2, weight_g=1_000),
    stop("a", east(1), window_start=9 * HOUR, window_end=10 * HOUR),
    stop("b", east(-1)),
]
PROBLEM = problem(STOPS, [motorbike("m1", capacity_parcels=4), motorbike("m2")])


def other_than(key: str) -> str:
    return "m2" if key == "m1" else "m1"


@pytest.fixture(scope="module")
def good() -> Plan:
    outcome = plan(PROBLEM, seconds=0.3)
    assert outcome.feasible
    assert len(outcome.routes) == 1
    return outcome


def with_route(outcome: Plan, route: Route) -> Plan:
    return replace(outcome, routes=[route])


def test_a_solved_plan_passes(good):
    assert verify(PROBLEM, good) == []


def test_verify_flags_a_stop_served_after_its_window(good):
    route = good.routes[0]
    late = tuple(
        replace(v, arrival=v.arrival + 3 * HOUR, departure=v.departure + 3 * HOUR) if v.key == "a" else v
        for v in route.stops
    )
    found = verify(PROBLEM, with_route(good, replace(route, stops=late)))
    assert any("serves a at" in f and "after its window closed" in f for f in found)


def test_verify_flags_an_arrival_faster_than_travel(good):
    route = good.routes[0]
    first = route.stops[0]
    rushed = (replace(first, arrival=route.start), *route.stops[1:])
    found = verify(PROBLEM, with_route(good, replace(route, stops=rushed)))
    assert any(f"reaches {first.key}" in f for f in found)


def test_verify_flags_delivery_before_pickup(good):
    route = good.routes[0]
    order = [v.key for v in route.stops]
    swapped = list(route.stops)
    i, j = order.index("shop"), order.index("customer")
    swapped[i], swapped[j] = swapped[j], swapped[i]
    found = verify(PROBLEM, with_route(good, replace(route, stops=tuple(swapped))))
    assert "pair shop→customer delivers before it picks up" in found


def test_verify_flags_a_split_pair_and_a_missing_stop(good):
    route = good.routes[0]
    without_customer = tuple(v for v in route.stops if v.key != "customer")
    other = Route(
        other_than(route.vehicle_key), (PlannedStop("customer", 9 * HOUR, 9 * HOUR + 120),), 0, 0, 9 * HOUR, 9 * HOUR
    )
    split = replace(good, routes=[replace(route, stops=without_customer), other])
    assert "pair shop→customer is split over two routes" in verify(PROBLEM, split)

    dropped = with_route(good, replace(route, stops=tuple(v for v in route.stops if v.key != "b")))
    assert "stop b is neither on a route nor reported unserved" in verify(PROBLEM, dropped)

    twice = replace(good, unserved=[Unserved("b", "just because")])
    assert "stop b appears 2 times" in verify(PROBLEM, twice)


def test_verify_flags_an_overload_and_a_late_return(good):
    route = good.routes[0]
    small = problem(STOPS, [motorbike(route.vehicle_key, capacity_parcels=2), motorbike(other_than(route.vehicle_key))])
    assert any("overloaded" in f for f in verify(small, good))

    late = with_route(good, replace(route, end=21 * HOUR, duration_s=21 * HOUR - route.start))
    assert any("after the shift ends" in f for f in verify(PROBLEM, late))


def test_verify_flags_a_wrong_distance_and_objective(good):
    route = good.routes[0]
    found = verify(PROBLEM, with_route(good, replace(route, distance_m=route.distance_m - 1)))
    assert any("its legs add up to" in f for f in found)
    assert any("the objective is" in f for f in verify(PROBLEM, replace(good, objective=good.objective + 1)))


def test_verify_flags_a_changed_locked_route(good):
    key = good.routes[0].vehicle_key
    locked = replace(PROBLEM, locked={key: ("b", "a")})
    assert f"the locked route of {key} changed" in verify(locked, good)
