"""The planner on small problems, each solved within a second or two, checked stop by stop."""

import pytest

from allied.delivery.routing import HaversineTravel, Plan, Route, plan, verify
from allied.delivery.routing.result import (
    NO_COORDINATES,
    NO_ROOM,
    NO_VEHICLES,
    OVER_CAPACITY,
    PICKUP_MISSING,
    WINDOW_UNREACHABLE,
)
from allied.delivery.routing.solver import SEARCHES_MIN_S
from tests.delivery.routing.helpers import DAY, HOUR, HUB, east, motorbike, problem, stop, van


def route_of(outcome: Plan, key: str) -> Route:
    return next(route for route in outcome.routes if key in [visit.key for visit in route.stops])


def keys(route: Route) -> list[str]:
    return [visit.key for visit in route.stops]


def test_plan_respects_parcel_capacity():
    stops = [stop(f"s{i}", east(1 + i * 0.1), parcels=2, weight_g=100) for i in range(6)]  # 12 parcels
    vehicles = [motorbike(f"m{i}", capacity_parcels=5, fixed_cost=0) for i in range(4)]
    pb = problem(stops, vehicles)

    outcome = plan(pb, seconds=0.5)

    assert outcome.feasible
    assert verify(pb, outcome) == []
    assert not outcome.unserved
    assert len(outcome.routes) == 3  # 2 stops of 2 parcels per route at most
    for route in outcome.routes:
        assert sum(2 for _ in route.stops) <= 5


def test_plan_respects_weight_capacity():
    stops = [stop(f"s{i}", east(1 + i * 0.1), parcels=1, weight_g=15_000) for i in range(5)]  # 75 kg
    vehicles = [motorbike(f"m{i}", fixed_cost=0) for i in range(4)]  # 40 kg, 30 parcels each
    pb = problem(stops, vehicles)

    outcome = plan(pb, seconds=0.5)

    assert outcome.feasible
    assert not outcome.unserved
    by_key = {s.key: s for s in stops}
    for route in outcome.routes:
        assert sum(by_key[key].weight_g for key in keys(route)) <= 40_000
    assert len(outcome.routes) == 3


def test_plan_serves_each_stop_inside_its_window_and_shift():
    stops = [
        stop("early", east(2), window_start=9 * HOUR, window_end=9 * HOUR + 900),
        stop("late", east(-2), window_start=18 * HOUR, window_end=18 * HOUR + 900),
        stop("noon", east(0, 3), window_start=12 * HOUR, window_end=13 * HOUR),
    ]
    vehicles = [motorbike("morning", (8 * HOUR, 16 * HOUR)), motorbike("evening", (12 * HOUR, 20 * HOUR))]
    pb = problem(stops, vehicles)

    outcome = plan(pb, seconds=0.5)

    assert outcome.feasible, outcome.violations
    windows = {s.key: (s.window_start, s.window_end) for s in stops}
    for route in outcome.routes:
        vehicle = next(v for v in vehicles if v.key == route.vehicle_key)
        assert vehicle.shift_start <= route.start
        assert route.end <= vehicle.shift_end
        for visit in route.stops:
            opens, closes = windows[visit.key]
            assert max(visit.arrival, opens) <= closes
    # Only the evening shift is still on the road at 18:00, only the morning one at 09:00.
    assert route_of(outcome, "late").vehicle_key == "evening"
    assert route_of(outcome, "early").vehicle_key == "morning"


def test_pair_rides_one_route_pickup_first():
    # The shop is east, the customer west: a route visiting the customer first would be shorter.
    stops = [
        stop("shop", east(3), kind="pickup"),
        stop("customer", east(-3), pickup_key="shop"),
        stop("other", east(-3.2)),
    ]
    pb = problem(stops, [motorbike("m1"), motorbike("m2")])

    outcome = plan(pb, seconds=0.5)

    assert outcome.feasible
    assert not outcome.unserved
    route = route_of(outcome, "customer")
    assert route is route_of(outcome, "shop")
    assert keys(route).index("shop") < keys(route).index("customer")


def test_pair_whose_delivery_window_closes_before_the_pickup_opens_is_unserved_together():
    stops = [
        stop("shop", east(3), kind="pickup", window_start=14 * HOUR, window_end=15 * HOUR),
        stop("customer", east(-3), pickup_key="shop", window_start=9 * HOUR, window_end=10 * HOUR),
    ]
    outcome = plan(problem(stops, [motorbike("m1")]), seconds=0.2)

    assert {u.key: u.reason for u in outcome.unserved} == {
        "shop": WINDOW_UNREACHABLE,
        "customer": WINDOW_UNREACHABLE,
    }


def test_van_and_motorbike_travel_at_their_own_speeds():
    # Both stops open at 09:00 sharp for ten minutes, 6 km apart: one vehicle cannot do both.
    # The heavy one only fits in the van, so the motorbike takes the other.
    stops = [
        stop("heavy", east(3), weight_g=100_000, window_start=9 * HOUR, window_end=9 * HOUR + 600),
        stop("light", east(-3), window_start=9 * HOUR, window_end=9 * HOUR + 600),
    ]
    vehicles = [van("van"), motorbike("bike")]
    pb = problem(stops, vehicles)

    outcome = plan(pb, seconds=0.5)

    assert outcome.feasible
    travel = HaversineTravel(detour_factor=1.3)
    for key, vehicle, speed in (("heavy", "van", 18.0), ("light", "bike", 25.0)):
        route = route_of(outcome, key)
        assert route.vehicle_key == vehicle
        expected = int(travel.durations([HUB, stops[0 if key == "heavy" else 1].point], speed)[0, 1])  # type: ignore[list-item]
        assert route.stops[0].arrival - route.start == expected
    van_leg = route_of(outcome, "heavy").stops[0].arrival - route_of(outcome, "heavy").start
    bike_leg = route_of(outcome, "light").stops[0].arrival - route_of(outcome, "light").start
    assert van_leg / bike_leg == pytest.approx(25 / 18, rel=0.01)


def test_unservable_stops_are_reported_with_their_reason():
    stops = [
        stop("fine", east(1)),
        stop("no-pin", None),
        stop("backwards", east(1), window_start=12 * HOUR, window_end=11 * HOUR),
        stop("before-shifts", east(5), window_start=6 * HOUR, window_end=7 * HOUR),
        stop("too-far-to-return", east(60), window_start=19 * HOUR, window_end=20 * HOUR),
        stop("overweight", east(1), weight_g=700_000),
        stop("too-many", east(1), parcels=200),
        stop("orphan", east(1), pickup_key="nowhere"),
        stop("shop", None, kind="pickup"),
        stop("customer", east(2), pickup_key="shop"),
    ]
    outcome = plan(problem(stops, [motorbike("m1"), van("v1")]), seconds=0.3)

    reasons = {u.key: u.reason for u in outcome.unserved}
    assert reasons == {
        "no-pin": NO_COORDINATES,
        "backwards": WINDOW_UNREACHABLE,
        "before-shifts": WINDOW_UNREACHABLE,
        "too-far-to-return": WINDOW_UNREACHABLE,
        "overweight": OVER_CAPACITY,
        "too-many": OVER_CAPACITY,
        "orphan": PICKUP_MISSING,
        "shop": NO_COORDINATES,
        "customer": f"its paired stop shop cannot be served: {NO_COORDINATES}",
    }
    assert [keys(route) for route in outcome.routes] == [["fine"]]
    assert outcome.feasible


def test_stops_that_do_not_all_fit_are_left_out_with_a_reason():
    # One rider, 30 parcels, 40 stops of one parcel each: ten must wait for another day.
    stops = [stop(f"s{i}", east(1 + (i % 5) * 0.2, (i // 5) * 0.2)) for i in range(40)]
    pb = problem(stops, [motorbike("m1")])

    outcome = plan(pb, seconds=0.5)

    assert outcome.feasible
    assert sum(len(route.stops) for route in outcome.routes) == 30
    assert len(outcome.unserved) == 10
    assert {u.reason for u in outcome.unserved} == {NO_ROOM}


def test_without_vehicles_every_stop_says_so():
    outcome = plan(problem([stop("a", east(1)), stop("b", None)], []), seconds=0.2)

    assert {u.key: u.reason for u in outcome.unserved} == {"a": NO_VEHICLES, "b": NO_COORDINATES}
    assert outcome.routes == []
    assert outcome.feasible


def test_locked_route_keeps_its_stops_in_their_order():
    # A zig-zag order nobody would plan: the lock keeps it, the rest is planned around it.
    stops = [stop(f"s{i}", east(i - 4, (i % 3) - 1)) for i in range(9)]
    locked = ("s8", "s0", "s7", "s1")
    pb = problem(stops, [motorbike("locked"), motorbike("free")], locked={"locked": locked})

    outcome = plan(pb, seconds=0.5)

    assert outcome.feasible, outcome.violations
    locked_route = next(route for route in outcome.routes if route.vehicle_key == "locked")
    assert tuple(keys(locked_route)) == locked
    assert locked_route.locked
    free = [key for route in outcome.routes if route.vehicle_key != "locked" for key in keys(route)]
    assert sorted(free) == ["s2", "s3", "s4", "s5", "s6"]
    assert all(visit.departure > visit.arrival for visit in locked_route.stops)


def test_half_of_a_pair_left_off_a_locked_route_is_unserved():
    stops = [stop("shop", east(2), kind="pickup"), stop("customer", east(-2), pickup_key="shop"), stop("x", east(1))]
    pb = problem(stops, [motorbike("locked"), motorbike("free")], locked={"locked": ("shop", "x")})

    outcome = plan(pb, seconds=0.3)

    assert {u.key: u.reason for u in outcome.unserved} == {
        "customer": "its paired stop shop is locked on the route of locked"
    }
    assert outcome.feasible is False  # the locked route carries half a pair: verify says so
    assert any("half served" in violation for violation in outcome.violations)


def test_fewer_riders_are_preferred():
    stops = [stop(f"s{i}", east(1 + i * 0.1)) for i in range(8)]
    outcome = plan(problem(stops, [motorbike(f"m{i}") for i in range(5)]), seconds=0.5)

    assert outcome.feasible
    assert len(outcome.routes) == 1
    assert outcome.objective == outcome.routes[0].distance_m + 10_000


def test_progress_is_reported_from_start_to_end():
    seen: list[float] = []
    stops = [stop(f"s{i}", east(1 + i * 0.1, i * 0.05)) for i in range(20)]

    plan(problem(stops, [motorbike("m1"), motorbike("m2")]), seconds=1.0, progress=seen.append)

    assert seen[0] == 0.0
    assert seen[-1] == 1.0
    assert len(seen) >= 4
    assert seen == sorted(seen)


@pytest.mark.parametrize(
    ("stops", "vehicles", "locked", "message"),
    [
        ([stop("a", east(1)), stop("a", east(2))], [motorbike("m")], {}, "duplicate stop keys"),
        ([stop("a", east(1))], [motorbike("m"), motorbike("m")], {}, "duplicate vehicle keys"),
        ([stop("a", east(1))], [motorbike("m")], {"x": ("a",)}, "names vehicle x"),
        ([stop("a", east(1))], [motorbike("m")], {"m": ("b",)}, "names stop b"),
    ],
)
def test_malformed_problems_are_refused(stops, vehicles, locked, message):
    with pytest.raises(ValueError, match=message):
        plan(problem(stops, vehicles, locked), seconds=0.1)


def test_plan_keeps_to_its_seconds():
    stops = [stop(f"s{i}", east((i % 10) * 0.5, (i // 10) * 0.5)) for i in range(60)]
    outcome = plan(problem(stops, [motorbike(f"m{i}") for i in range(3)]), seconds=1.0)

    assert outcome.runtime_s < 1.5
    assert outcome.feasible
    assert DAY[0] <= min(route.start for route in outcome.routes)


def test_searches_side_by_side_keep_the_best_plan_and_its_time():
    stops = [stop(f"s{i}", east((i % 10) * 0.5, (i // 10) * 0.5)) for i in range(60)]
    pb = problem(stops, [motorbike(f"m{i}") for i in range(3)])

    seconds = SEARCHES_MIN_S + 1  # what is left for searching once the model is built
    outcome = plan(pb, seconds=seconds, searches=2)
    short = plan(pb, seconds=1.0, searches=2)

    assert outcome.searches == 2
    assert outcome.feasible
    assert verify(pb, outcome) == []
    assert not outcome.unserved
    assert outcome.runtime_s < seconds + 0.5, "the other process stops at the same moment"
    assert short.searches == 1, "a short plan is not worth starting a process for"
    assert short.feasible
