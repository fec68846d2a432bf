"""Random small problems: nothing is ever dropped, and what is planned keeps every rule."""

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allied.delivery.routing import Problem, Stop, Vehicle, plan, verify
from tests.delivery.routing.helpers import HOUR, east, problem


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    stops: list[Stop] = []
    for i in range(draw(st.integers(0, 14))):
        point = None if draw(st.integers(0, 9)) == 0 else east(draw(st.floats(-8, 8)), draw(st.floats(-8, 8)))
        start = draw(st.integers(6, 19)) * HOUR
        length = draw(st.sampled_from([-HOUR, 600, HOUR, 3 * HOUR, 10 * HOUR]))
        fields = {
            "window_start": start,
            "window_end": start + length,
            "service": draw(st.integers(0, 600)),
            "parcels": draw(st.integers(1, 12)),
            "weight_g": draw(st.integers(0, 30_000)),
        }
        paired = stops and stops[-1].kind == "pickup" and draw(st.booleans())
        kind = "delivery" if paired else draw(st.sampled_from(["delivery", "delivery", "pickup"]))
        pickup_key = stops[-1].key if paired else (draw(st.sampled_from([None, None, None, "ghost"])))
        if kind == "pickup":
            pickup_key = None
        stops.append(Stop(f"s{i}", point, kind, pickup_key=pickup_key, **fields))  # type: ignore[arg-type]
    vehicles = [
        Vehicle(
            f"v{k}",
            draw(st.sampled_from([8, 12])) * HOUR,
            draw(st.sampled_from([16, 20])) * HOUR,
            draw(st.sampled_from([18.0, 25.0])),
            draw(st.integers(5, 30)),
            draw(st.integers(10_000, 60_000)),
            draw(st.integers(0, 20_000)),
            "motorbike",
        )
        for k in range(draw(st.integers(0, 3)))
    ]
    locked: dict[str, tuple[str, ...]] = {}
    wants_lock: bool = draw(st.booleans())
    if vehicles and stops and wants_lock:
        chosen = draw(st.lists(st.sampled_from([s.key for s in stops]), unique=True, max_size=3))
        locked[vehicles[0].key] = tuple(chosen)
    return problem(stops, vehicles, locked)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_stop_is_routed_once_or_reported(pb: Problem):
    outcome = plan(pb, seconds=0.2)

    placed = Counter(visit.key for route in outcome.routes for visit in route.stops)
    placed.update(item.key for item in outcome.unserved)
    assert placed == Counter(stop.key for stop in pb.stops)
    assert all(item.reason for item in outcome.unserved)
    found = verify(pb, outcome)
    if pb.locked:
        # A locked route is the dispatcher's: it is kept even where it breaks a rule, and verify
        # says so. Every other route, the planner's own, must be clean.
        ((vehicle, locked),) = pb.locked.items()
        for finding in found:
            if finding.startswith("pair "):
                assert set(finding.split()[1].split("→")) & set(locked), finding
            else:
                assert f"route of {vehicle} " in finding, finding
    else:
        assert found == []
        assert outcome.feasible
