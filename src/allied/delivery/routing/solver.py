"""Allied's route planner: the problem in, PyVRP's iterated local search, a checked plan out.

How the problem becomes a PyVRP model (PyVRP 0.14):

* one location per stop with coordinates, the hub is location 0 and the only depot;
* loads have two dimensions, parcels and grams; a plain delivery is a client with a
  delivery amount (loaded at the hub), a plain pickup (a return) a client with a pickup amount
  (unloaded at the hub);
* a paired job (collect at a shop, deliver to a customer) is a PyVRP `Shipment`: PyVRP 0.14
  models pickup-and-delivery natively, and a shipment's pickup and delivery are always on the
  same route, the pickup first, with its amount on board in between;
* a vehicle's shift is its vehicle type's time window (leave the hub after `shift_start`, be
  back by `shift_end`); identical vehicles (same shift, capacities, cost and speed) share one
  vehicle type with `num_available` set, which is how PyVRP's own benchmarks state a fleet;
* every distinct speed is a routing profile with its own duration matrix, so a van and a
  motorbike take different times over the same streets (the distances are the same);
* the cost is metres driven plus each used vehicle's fixed cost, so fewer riders win when
  the metres allow;
* every stop is optional with a prize larger than any detour and fixed cost could be, so the
  solver serves everything it can and still returns a feasible plan when not everything fits:
  what it leaves out is reported, never dropped.

Stops that cannot be served whatever the solver does are found before solving and reported
with their reason. Locked routes are taken out of the optimisation: their vehicles and stops
are reported unchanged, with times recomputed. The returned plan is checked by `verify()`;
should the solver ever return a route that breaks a rule, the route is repaired by leaving
out the jobs that break it (reported as unserved) before the plan is handed back.
"""

import logging
import multiprocessing
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np
from pyvrp import Client, CostEvaluator, Depot, Location, ProblemData, Shipment, Solution, VehicleType
from pyvrp import solve as pyvrp_solve
from pyvrp.stop import MaxRuntime

from allied.delivery.routing import result as reasons
from allied.delivery.routing.network import Network, pair_load, pairing
from allied.delivery.routing.problem import Problem, Stop, Vehicle
from allied.delivery.routing.result import Plan, PlannedStop, Route, Unserved
from allied.delivery.routing.verify import verify

type Progress = Callable[[float], None]

PROGRESS_INTERVAL_S = 0.25
# Below this many seconds of search, starting another process costs more than its search brings.
SEARCHES_MIN_S = 5.0
# How long past the deadline another search may take to hand its solution back.
SEARCH_GRACE_S = 2.0

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Job:
    """What the solver places as one unit: a single stop, or a pickup and its delivery."""

    stops: tuple[Stop, ...]
    parcels: int
    grams: int


@dataclass(frozen=True, slots=True)
class _Fleet:
    """Identical vehicles, one PyVRP vehicle type."""

    vehicles: tuple[Vehicle, ...]

    @property
    def model(self) -> Vehicle:
        return self.vehicles[0]


def plan(
    problem: Problem, *, seconds: float, seed: int = 1, searches: int = 1, progress: Progress | None = None
) -> Plan:
    """Plans the routes of `problem` within about `seconds` of wall-clock time.

    With `searches` above 1 (and at least SEARCHES_MIN_S of `seconds` left for searching), as
    many searches from different seeds run side by side, one per process (PyVRP's search uses one
    core), and the best plan of them is kept. That helps only where the cores do not slow each
    other down: measured on 2 cores, better on 100 stops, worse on 1,000 (docs/benchmarks.md).

    Never drops a stop: each one is on exactly one route or in `unserved` with its reason.
    `progress`, when given, is called with the elapsed fraction of `seconds` at the start,
    every quarter of a second while the solver searches (from its stopping criterion, which
    PyVRP calls once per iteration, so reporting costs the search nothing), and with 1.0 at
    the end. Raises ValueError for input no dispatcher should send: duplicate keys, a locked
    route naming an unknown vehicle or stop, or a stop locked on two routes.
    """
    started = time.perf_counter()
    if progress is not None:
        progress(0.0)
    _check_structure(problem)
    stops = {stop.key: stop for stop in problem.stops}
    pairs = pairing(problem.stops)
    unserved: dict[str, str] = dict(pairs.broken)
    for stop in problem.stops:
        if stop.point is None:
            unserved[stop.key] = reasons.NO_COORDINATES

    locked_on = {key: vehicle for vehicle, keys in problem.locked.items() for key in keys}
    for delivery, pickup in pairs.pickup_of.items():
        for key, other in ((delivery, pickup), (pickup, delivery)):
            if locked_on.get(other) is not None and locked_on.get(key) != locked_on[other]:
                unserved.setdefault(key, f"its paired stop {other} is locked on the route of {locked_on[other]}")
    _spread_to_partners(unserved, pairs.pickup_of, keep=locked_on.keys())

    network = Network(problem, problem.stops, {vehicle.speed_kmh for vehicle in problem.vehicles})
    fleets = _fleets([vehicle for vehicle in problem.vehicles if vehicle.key not in problem.locked])
    jobs: list[_Job] = []
    for stop in problem.stops:
        if stop.key in locked_on or stop.key in unserved or stop.key in pairs.pickup_of:
            continue  # a paired delivery joins the job of its pickup
        if stop.key in pairs.delivery_of:
            partner = stops[pairs.delivery_of[stop.key]]
            parcels, grams = pair_load(stop, partner)
            job = _Job((stop, partner), parcels, grams)
        else:
            job = _Job((stop,), stop.parcels, stop.weight_g)
        reason = _why_never(job, fleets, network)
        if reason is None:
            jobs.append(job)
        else:
            unserved.update((member.key, reason) for member in job.stops)

    vehicles = {vehicle.key: vehicle for vehicle in problem.vehicles}
    routes: list[Route] = []
    for vehicle_key, keys in problem.locked.items():
        kept = [stops[key] for key in keys if key not in unserved]
        if kept:
            routes.append(_schedule(kept, vehicles[vehicle_key], network, pairs.pickup_of, locked=True).route)
    iterations, searched = 0, 1
    if jobs:
        budget = _Budget(seconds, started, progress)
        solver = _Solver(jobs, fleets, network, pairs.pickup_of)
        solved, left_out = solver.solve(budget, seed, searches)
        iterations, searched = solver.iterations, solver.searches
        routes.extend(solved)
        unserved.update((key, reasons.NO_ROOM) for key in left_out)

    outcome = Plan(
        routes=routes,
        unserved=[Unserved(stop.key, unserved[stop.key]) for stop in problem.stops if stop.key in unserved],
        objective=sum(route.distance_m + vehicles[route.vehicle_key].fixed_cost for route in routes),
        feasible=False,
        runtime_s=0.0,
    )
    violations = verify(problem, outcome)
    if progress is not None:
        progress(1.0)
    return replace(
        outcome,
        feasible=not violations,
        violations=violations,
        runtime_s=time.perf_counter() - started,
        iterations=iterations,
        searches=searched,
    )


def _check_structure(problem: Problem) -> None:
    for kind, named in (("stop", [s.key for s in problem.stops]), ("vehicle", [v.key for v in problem.vehicles])):
        if len(set(named)) != len(named):
            raise ValueError(f"duplicate {kind} keys")
    stop_keys = {stop.key for stop in problem.stops}
    vehicle_keys = {vehicle.key for vehicle in problem.vehicles}
    locked: set[str] = set()
    for vehicle_key, keys in problem.locked.items():
        if vehicle_key not in vehicle_keys:
            raise ValueError(f"a locked route names vehicle {vehicle_key}, which the problem does not have")
        for key in keys:
            if key not in stop_keys:
                raise ValueError(f"the locked route of {vehicle_key} names stop {key}, which the problem does not have")
            if key in locked:
                raise ValueError(f"stop {key} is locked twice")
            locked.add(key)


def _spread_to_partners(unserved: dict[str, str], pickup_of: dict[str, str], keep: Collection[str]) -> None:
    """Half a pair cannot be served alone: its partner is left out too, saying why.

    A locked stop stays where the dispatcher put it (`verify()` then reports the half pair).
    """
    for delivery, pickup in pickup_of.items():
        for key, other in ((delivery, pickup), (pickup, delivery)):
            if other in unserved and key not in unserved and key not in keep:
                unserved[key] = f"its paired stop {other} cannot be served: {unserved[other]}"


def _fleets(vehicles: Sequence[Vehicle]) -> list[_Fleet]:
    groups: dict[tuple[int, int, int, int, int, float], list[Vehicle]] = {}
    for v in vehicles:
        key = (v.shift_start, v.shift_end, v.capacity_parcels, v.capacity_weight_g, v.fixed_cost, v.speed_kmh)
        groups.setdefault(key, []).append(v)
    return [_Fleet(tuple(group)) for group in groups.values()]


def _why_never(job: _Job, fleets: Sequence[_Fleet], network: Network) -> str | None:
    """Why no vehicle could serve `job` even on a route of its own, or None when one could."""
    if not fleets:
        return reasons.NO_VEHICLES
    fitting = [
        f.model for f in fleets if job.parcels <= f.model.capacity_parcels and job.grams <= f.model.capacity_weight_g
    ]
    if not fitting:
        return reasons.OVER_CAPACITY
    for vehicle in fitting:
        duration = network.duration[vehicle.speed_kmh]
        clock, here, reachable = vehicle.shift_start, 0, True
        for stop in job.stops:
            there = network.row[stop.key]
            clock = max(clock + int(duration[here, there]), stop.window_start)
            if clock > stop.window_end:
                reachable = False
                break
            clock, here = clock + stop.service, there
        if reachable and clock + int(duration[here, 0]) <= vehicle.shift_end:
            return None
    return reasons.WINDOW_UNREACHABLE


@dataclass(frozen=True, slots=True)
class _Scheduled:
    route: Route
    feasible: bool


def _schedule(
    stops: Sequence[Stop],
    vehicle: Vehicle,
    network: Network,
    pickup_of: dict[str, str],
    *,
    start: int | None = None,
    locked: bool = False,
) -> _Scheduled:
    """Times `stops` in order, waiting where early; says whether windows, shift and loads hold.

    Without `start`, the rider leaves the hub when the first stop can be reached as its window
    opens (or at the shift start, if later): any earlier departure only means waiting there.
    """
    duration = network.duration[vehicle.speed_kmh]
    rows = [network.row[stop.key] for stop in stops]
    if start is None:
        start = max(vehicle.shift_start, stops[0].window_start - int(duration[0, rows[0]]))
    feasible = start >= vehicle.shift_start
    on_route = {stop.key: stop for stop in stops}
    delivery_of = {pickup: delivery for delivery, pickup in pickup_of.items()}
    parcels = sum(s.parcels for s in stops if s.kind == "delivery" and s.key not in pickup_of)
    grams = sum(s.weight_g for s in stops if s.kind == "delivery" and s.key not in pickup_of)
    feasible &= parcels <= vehicle.capacity_parcels and grams <= vehicle.capacity_weight_g
    visits = []
    clock, here, distance = start, 0, 0
    for stop, there in zip(stops, rows, strict=True):
        distance += int(network.distance[here, there])
        arrival = clock + int(duration[here, there])
        begins = max(arrival, stop.window_start)
        feasible &= begins <= stop.window_end
        clock, here = begins + stop.service, there
        visits.append(PlannedStop(stop.key, arrival, clock))
        if stop.key in pickup_of:
            pickup = on_route.get(pickup_of[stop.key])
            feasible &= pickup is not None
            load = pair_load(pickup or stop, stop)
            parcels, grams = parcels - load[0], grams - load[1]
        elif stop.key in delivery_of:
            load = pair_load(stop, on_route.get(delivery_of[stop.key], stop))
            parcels, grams = parcels + load[0], grams + load[1]
        elif stop.kind == "delivery":
            parcels, grams = parcels - stop.parcels, grams - stop.weight_g
        else:
            parcels, grams = parcels + stop.parcels, grams + stop.weight_g
        feasible &= parcels <= vehicle.capacity_parcels and grams <= vehicle.capacity_weight_g
    distance += int(network.distance[here, 0])
    end = clock + int(duration[here, 0])
    feasible &= end <= vehicle.shift_end
    route = Route(vehicle.key, tuple(visits), distance, end - start, start, end, locked)
    return _Scheduled(route, feasible)


class _Budget:
    """PyVRP's stopping criterion: MaxRuntime over what is left of the caller's seconds.

    MaxRuntime starts its clock at its first call; calling it once here, before PyVRP builds its
    initial solution, makes that construction count too, so `plan()` keeps to its seconds. What
    follows the search (reading the solution back, `verify()`, which fetches the travel matrices
    again) takes about as long as what preceded it, so twice the set-up time is kept back for it.
    The same call, made by PyVRP once per iteration, reports progress.
    """

    def __init__(self, seconds: float, started: float, progress: Progress | None) -> None:
        self._seconds = seconds
        self._started = started
        self._progress = progress
        self._reported = started
        set_up = time.perf_counter() - started
        self.search_s = max(0.0, seconds - set_up - min(2 * set_up, seconds / 10))
        self.ends_at = time.monotonic() + self.search_s  # for other processes' searches: one clock on Linux
        self._limit = MaxRuntime(self.search_s)
        self._limit(0)

    def __call__(self, best_cost: int) -> bool:
        done = self._limit(best_cost)
        if self._progress is not None:
            now = time.perf_counter()
            if now - self._reported >= PROGRESS_INTERVAL_S:
                self._reported = now
                self._progress(min(1.0, (now - self._started) / self._seconds) if self._seconds > 0 else 1.0)
        return done


class _Solver:
    """One PyVRP model built from the jobs and fleets, and its solution read back."""

    def __init__(
        self, jobs: Sequence[_Job], fleets: Sequence[_Fleet], network: Network, pickup_of: dict[str, str]
    ) -> None:
        self._jobs = jobs
        self._fleets = fleets
        self._network = network
        self._pickup_of = pickup_of
        self.iterations = 0
        self.searches = 1

    def _data(self) -> tuple[ProblemData, list[Stop], list[tuple[Stop, Stop]]]:
        network = self._network
        singles = [job.stops[0] for job in self._jobs if len(job.stops) == 1]
        pairs = [(job.stops[0], job.stops[1]) for job in self._jobs if len(job.stops) == 2]
        ordered = [*singles, *(stop for pair in pairs for stop in pair)]
        rows = np.array([0, *(network.row[stop.key] for stop in ordered)], dtype=np.intp)
        index = np.ix_(rows, rows)
        speeds = sorted({fleet.model.speed_kmh for fleet in self._fleets})
        distance = np.ascontiguousarray(network.distance[index])
        durations = [np.ascontiguousarray(network.duration[speed][index]) for speed in speeds]

        # A prize above the dearest way to serve a job (a vehicle of its own, out and back, and
        # a detour for the pair) makes serving every job that fits better than leaving it out.
        prize = max(f.model.fixed_cost for f in self._fleets) + 4 * int(distance.max()) + 1
        # A load dimension no job uses (grams in the benchmark instances) is left out: PyVRP
        # evaluates every dimension at every move, and an idle one costs iterations.
        used = [any(job.parcels for job in self._jobs), any(job.grams for job in self._jobs)]

        def loads(parcels: int, grams: int) -> list[int]:
            return [value for value, on in zip((parcels, grams), used, strict=True) if on]

        locations = [Location(x=0.0, y=0.0, name="hub")]
        for stop in ordered:
            point = stop.point
            locations.append(Location(x=point.lng if point else 0.0, y=point.lat if point else 0.0, name=stop.key))
        clients = [
            Client(
                location=i,
                delivery=loads(stop.parcels, stop.weight_g) if stop.kind == "delivery" else loads(0, 0),
                pickup=loads(stop.parcels, stop.weight_g) if stop.kind == "pickup" else loads(0, 0),
                service_duration=stop.service,
                tw_early=stop.window_start,
                tw_late=stop.window_end,
                prize=prize,
                required=False,
                name=stop.key,
            )
            for i, stop in enumerate(singles, start=1)
        ]
        shipments = []
        for n, (pickup, delivery) in enumerate(pairs):
            location = 1 + len(singles) + 2 * n
            shipments.append(
                Shipment(
                    pickup_location=location,
                    delivery_location=location + 1,
                    pickup_tw_early=pickup.window_start,
                    pickup_tw_late=pickup.window_end,
                    pickup_service_duration=pickup.service,
                    delivery_tw_early=delivery.window_start,
                    delivery_tw_late=delivery.window_end,
                    delivery_service_duration=delivery.service,
                    amount=loads(*pair_load(pickup, delivery)),
                    prize=2 * prize,
                    required=False,
                    name=delivery.key,
                )
            )
        vehicle_types = [
            VehicleType(
                num_available=len(fleet.vehicles),
                capacity=loads(fleet.model.capacity_parcels, fleet.model.capacity_weight_g),
                start_depot=0,
                end_depot=0,
                fixed_cost=fleet.model.fixed_cost,
                tw_early=fleet.model.shift_start,
                tw_late=fleet.model.shift_end,
                profile=speeds.index(fleet.model.speed_kmh),
                name=fleet.model.vehicle_type,
            )
            for fleet in self._fleets
        ]
        data = ProblemData(
            locations=locations,
            clients=clients,
            depots=[Depot(location=0, name="hub")],
            vehicle_types=vehicle_types,
            # PyVRP's stubs spell a matrix `ndarray[int]`; these are int64 arrays as it wants.
            distance_matrices=cast("list[Any]", [distance] * len(speeds)),
            duration_matrices=cast("list[Any]", durations),
            shipments=shipments,
        )
        return data, singles, pairs

    def solve(self, budget: _Budget, seed: int, searches: int) -> tuple[list[Route], list[str]]:
        """Routes, and the keys of the stops the solver left out."""
        data, singles, pairs = self._data()
        if searches > 1 and budget.search_s >= SEARCHES_MIN_S:
            found = _side_by_side(data, budget, seed, searches)
        else:
            ours = pyvrp_solve(data, stop=budget, seed=seed, collect_stats=False, display=False)
            found = [(ours.best, ours.num_iterations)]
        self.iterations = sum(iterations for _, iterations in found)
        self.searches = len(found)
        best = min((solution for solution, _ in found), key=_cost(data))
        fleets_left = [list(fleet.vehicles) for fleet in self._fleets]
        routes: list[Route] = []
        left_out: list[str] = []
        for solved in best.routes():
            stops: list[Stop] = []
            for activity in solved.schedule():
                if activity.is_client():
                    stops.append(singles[activity.idx])
                elif activity.is_pickup():
                    stops.append(pairs[activity.idx][0])
                elif activity.is_delivery():
                    stops.append(pairs[activity.idx][1])
            if not stops:
                continue
            vehicle = fleets_left[solved.vehicle_type()].pop(0)
            scheduled = _schedule(stops, vehicle, self._network, self._pickup_of, start=solved.start_time())
            kept = scheduled if scheduled.feasible else self._repair(stops, vehicle, left_out)
            if kept is not None:
                routes.append(kept.route)
        routed = {visit.key for route in routes for visit in route.stops}
        left_out.extend(
            stop.key for job in self._jobs for stop in job.stops if stop.key not in routed and stop.key not in left_out
        )
        return routes, left_out

    def _repair(self, stops: list[Stop], vehicle: Vehicle, left_out: list[str]) -> _Scheduled | None:
        """Keeps, in route order, each job whose addition leaves the route feasible; drops the rest.

        Only reached when the solver's best solution is infeasible (it ran out of time before
        finding a feasible one), so the plan still keeps every rule.
        """
        partner = {**self._pickup_of, **{p: d for d, p in self._pickup_of.items()}}
        kept: list[Stop] = []
        best: _Scheduled | None = None
        for stop in stops:
            if stop.key in {s.key for s in kept} or stop.key in left_out:
                continue
            members = {stop.key, partner.get(stop.key, stop.key)}
            trial = [s for s in stops if s.key in members or s.key in {k.key for k in kept}]
            scheduled = _schedule(trial, vehicle, self._network, self._pickup_of)
            if scheduled.feasible:
                kept, best = trial, scheduled
            else:
                left_out.extend(sorted(members))
        return best


def _cost(data: ProblemData) -> Callable[[Solution], float]:
    """PyVRP's objective of a solution (its distance, fixed costs and prizes left), infinite when
    it breaks a rule."""
    evaluator = CostEvaluator([0.0] * data.num_load_dimensions, 0.0, 0.0)
    return evaluator.cost


class _Until:
    """A stopping criterion at a moment of the monotonic clock, which every process on Linux shares."""

    def __init__(self, ends_at: float) -> None:
        self._ends_at = ends_at

    def __call__(self, best_cost: int) -> bool:
        return time.monotonic() >= self._ends_at


def _side_by_side(data: ProblemData, budget: _Budget, seed: int, searches: int) -> list[tuple[Solution, int]]:
    """Our search here and the others in their own processes, all until the budget's end; what
    each found. Another search that fails or overruns (it cannot start, its process dies, or PyVRP's
    first descent, which checks no clock, takes longer than the budget) is logged, stopped and left
    out: this process's own search is enough for a plan."""
    # forkserver: a worker process holds database connections and threads a fork would copy.
    context = multiprocessing.get_context("forkserver")
    others: list[tuple[Any, Any]] = []
    try:
        for n in range(1, searches):
            receiving, sending = context.Pipe(duplex=False)
            process = context.Process(target=_search, args=(data, budget.ends_at, seed + n, sending), daemon=True)
            process.start()
            sending.close()
            others.append((process, receiving))
    except Exception:
        logger.exception("The planner's other searches could not start; this process searches alone")
    ours = pyvrp_solve(data, stop=budget, seed=seed, collect_stats=False, display=False)
    found = [(ours.best, ours.num_iterations)]
    for process, receiving in others:
        try:
            if receiving.poll(max(0.0, budget.ends_at - time.monotonic()) + SEARCH_GRACE_S):
                found.append(receiving.recv())
            else:
                logger.warning("A planner search in another process overran its time; the plan leaves it out")
        except (EOFError, OSError):
            logger.exception("A planner search in another process failed; the plan leaves it out")
        finally:
            process.kill()
            process.join()
            receiving.close()
    return found


def _search(data: ProblemData, ends_at: float, seed: int, sending: Any) -> None:
    """One more search of `plan(searches=…)`, in its own process: its best solution and number of
    iterations go back through `sending`."""
    result = pyvrp_solve(data, stop=_Until(ends_at), seed=seed, collect_stats=False, display=False)
    sending.send((result.best, result.num_iterations))
    sending.close()
