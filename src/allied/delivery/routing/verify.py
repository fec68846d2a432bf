"""An independent check of a plan against its problem.

It re-reads the plan's stated times and loads and recomputes nothing from the solver: a
plan passes only when every stop is routed once or reported unserved, every visit starts
inside its window, every route leaves after its shift starts and is back by its end, no load
exceeds a vehicle's parcels or grams at any point, each pair rides one route pickup first,
locked routes are as the dispatcher left them, and the stated distances and objective add up.
"""

from collections import Counter

from allied.delivery.routing.network import Network, pair_load, pairing
from allied.delivery.routing.problem import Problem, Stop, Vehicle
from allied.delivery.routing.result import Plan, Route


def _clock(seconds: int) -> str:
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    return f"{sign}{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def verify(problem: Problem, plan: Plan) -> list[str]:
    """Every way in which `plan` breaks a rule of `problem`, one sentence each; [] when none."""
    stops = {stop.key: stop for stop in problem.stops}
    vehicles = {vehicle.key: vehicle for vehicle in problem.vehicles}
    pairs = pairing(problem.stops)
    found: list[str] = []

    seen: Counter[str] = Counter()
    route_of: dict[str, str] = {}
    position: dict[str, int] = {}
    for route in plan.routes:
        for i, visit in enumerate(route.stops):
            seen[visit.key] += 1
            route_of[visit.key] = route.vehicle_key
            position[visit.key] = i
    unserved = {item.key for item in plan.unserved}
    for item in plan.unserved:
        seen[item.key] += 1
        if not item.reason:
            found.append(f"stop {item.key} is unserved without a reason")
    for key in stops:
        if seen[key] == 0:
            found.append(f"stop {key} is neither on a route nor reported unserved")
        elif seen[key] > 1:
            found.append(f"stop {key} appears {seen[key]} times")
    found.extend(f"the plan names stop {key}, which the problem does not have" for key in seen if key not in stops)

    for delivery, broken in pairs.broken.items():
        if delivery in route_of:
            found.append(f"delivery {delivery} is routed although {broken}")
    for delivery, pickup in pairs.pickup_of.items():
        if (delivery in unserved) != (pickup in unserved):
            found.append(f"pair {pickup}→{delivery} is half served")
        elif delivery in route_of and route_of[delivery] != route_of.get(pickup):
            found.append(f"pair {pickup}→{delivery} is split over two routes")
        elif delivery in route_of and position[pickup] > position[delivery]:
            found.append(f"pair {pickup}→{delivery} delivers before it picks up")

    used: Counter[str] = Counter(route.vehicle_key for route in plan.routes)
    for key, times in used.items():
        if key not in vehicles:
            found.append(f"a route uses vehicle {key}, which the problem does not have")
        elif times > 1:
            found.append(f"vehicle {key} drives {times} routes")
    for vehicle_key, locked in problem.locked.items():
        expected = [key for key in locked if key not in unserved]
        actual = [visit.key for route in plan.routes if route.vehicle_key == vehicle_key for visit in route.stops]
        if actual != expected:
            found.append(f"the locked route of {vehicle_key} changed")

    routed = [stops[key] for key in route_of if key in stops]
    network = Network(problem, routed, {v.speed_kmh for v in vehicles.values() if v.key in used})
    total = 0
    for route in plan.routes:
        vehicle = vehicles.get(route.vehicle_key)
        if vehicle is None:
            continue
        distance = _check_route(route, vehicle, stops, pairs.pickup_of, pairs.delivery_of, network, found)
        total += distance + vehicle.fixed_cost
    if plan.objective != total:
        found.append(f"the objective is {plan.objective}, but the routes add up to {total}")
    return found


def _check_route(
    route: Route,
    vehicle: Vehicle,
    stops: dict[str, Stop],
    pickup_of: dict[str, str],
    delivery_of: dict[str, str],
    network: Network,
    found: list[str],
) -> int:
    """Checks one route's times and loads against `vehicle`; returns its distance by the matrix."""
    name = f"route of {vehicle.key}"
    visits = [visit for visit in route.stops if visit.key in stops]
    if any(stops[visit.key].point is None for visit in visits):
        found.append(f"{name} visits a stop without coordinates")
        return route.distance_m
    duration = network.duration[vehicle.speed_kmh]
    if route.start < vehicle.shift_start:
        found.append(
            f"{name} leaves at {_clock(route.start)}, before the shift starts at {_clock(vehicle.shift_start)}"
        )

    # The load leaving the hub is every plain delivery on the route; it changes at each stop.
    parcels = sum(stops[v.key].parcels for v in visits if _plain(stops[v.key], pickup_of, delivery_of, "delivery"))
    grams = sum(stops[v.key].weight_g for v in visits if _plain(stops[v.key], pickup_of, delivery_of, "delivery"))
    overloads = []
    if parcels > vehicle.capacity_parcels or grams > vehicle.capacity_weight_g:
        overloads.append("the hub")

    clock, here, distance = route.start, 0, 0
    for visit in visits:
        stop = stops[visit.key]
        there = network.row[stop.key]
        distance += int(network.distance[here, there])
        earliest = clock + int(duration[here, there])
        if visit.arrival < earliest:
            found.append(f"{name} reaches {stop.key} at {_clock(visit.arrival)}, before {_clock(earliest)}")
        begins = max(visit.arrival, stop.window_start)
        if begins > stop.window_end:
            found.append(
                f"{name} serves {stop.key} at {_clock(begins)}, after its window closed at {_clock(stop.window_end)}"
            )
        if visit.departure < begins + stop.service:
            found.append(f"{name} leaves {stop.key} before its service is done")
        if stop.key in pickup_of:
            load = pair_load(stops[pickup_of[stop.key]], stop)
            parcels, grams = parcels - load[0], grams - load[1]
        elif stop.key in delivery_of:
            load = pair_load(stop, stops[delivery_of[stop.key]])
            parcels, grams = parcels + load[0], grams + load[1]
        elif stop.kind == "delivery":
            parcels, grams = parcels - stop.parcels, grams - stop.weight_g
        else:
            parcels, grams = parcels + stop.parcels, grams + stop.weight_g
        if parcels > vehicle.capacity_parcels or grams > vehicle.capacity_weight_g:
            overloads.append(stop.key)
        clock, here = visit.departure, there
    distance += int(network.distance[here, 0])
    back = clock + int(duration[here, 0])
    if route.end < back:
        found.append(f"{name} is back at {_clock(route.end)}, before it can be ({_clock(back)})")
    if route.end > vehicle.shift_end:
        found.append(f"{name} is back at {_clock(route.end)}, after the shift ends at {_clock(vehicle.shift_end)}")
    if overloads:
        found.append(f"{name} is overloaded leaving {', '.join(overloads[:3])}")
    if route.distance_m != distance:
        found.append(f"{name} states {route.distance_m} m, but its legs add up to {distance} m")
    if route.duration_s != route.end - route.start:
        found.append(f"{name} states a duration of {route.duration_s} s, not end minus start")
    return distance


def _plain(stop: Stop, pickup_of: dict[str, str], delivery_of: dict[str, str], kind: str) -> bool:
    return stop.kind == kind and stop.key not in pickup_of and stop.key not in delivery_of
