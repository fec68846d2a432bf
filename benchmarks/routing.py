"""Routing: Allied's planner on the standard benchmark sets and on a realistic day in Dhaka.

Every instance goes through `allied.delivery.routing.plan()`, the function the dispatcher
calls, its translation into PyVRP included: each benchmark instance is first written as an
Allied `Problem` (stops, vehicles, an `ExplicitTravel` matrix), exactly as the dispatcher's
service writes a hub's day, and every plan is checked with `verify()`.

Sets (`--set`), each against `bks.csv` in the data folder (default `../shared/vrp` from the
repository root, `--data` to change it), at the seconds per instance that the aims name:

* solomon: the 56 Solomon VRPTW instances (100 customers), 10 s each. A fixed fleet of 25,
  fixed cost 0, distance minimised: the gap is to the `distance_only` best-known solution
  (doubles, 2 dp), the convention of VROOM's and PyVRP's Solomon tables. Distances go into
  the planner as integers in thousandths (nearest; durations rounded up, so a plan feasible
  in integers is feasible in doubles); the distance reported is recomputed in doubles, and
  the schedule is re-checked in doubles too. The (vehicles, distance) comparison with the
  hierarchical SINTEF best is shown beside it.
* li_lim: six Li & Lim pickup-and-delivery instances (100 tasks), 10 s each, under PyVRP's
  `exact` convention (each arc ×1000, nearest integer) of their `distance_only` references.
* homberger: the six 1,000-customer Gehring & Homberger instances, 60 s each, under the
  DIMACS convention (distances and times truncated to 1 dp) of their `distance_only` BKS.
* homberger_small: the nine 200- and 400-customer ones (20 s / 40 s), hierarchical BKS only.
* realistic: a generated day of 1,000 stops around Dhaka (fixed seed), 60 s: time windows,
  paired shop→customer jobs and returns, motorbikes and vans on two shifts, haversine ×1.3.
* all: solomon, li_lim, homberger and realistic (about 18 minutes).

    .venv/bin/python benchmarks/routing.py                      # all, about 18 minutes
    .venv/bin/python benchmarks/routing.py --set solomon        # about 10 minutes
    .venv/bin/python benchmarks/routing.py --quick              # two instances per set, 2 s each

Runs one instance at a time. PyVRP's search is single-threaded: the aims are on one core
(`--searches 1`, the default); `--searches 2` runs two seeds side by side on two cores and keeps
the better plan, as the dispatcher does on a machine with two cores (`ALLIED_PLANNER_SEARCHES`).
"""

import argparse
import csv
import itertools
import math
import os
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from allied.delivery.routing import (
    ExplicitTravel,
    HaversineTravel,
    Plan,
    Point,
    Problem,
    Stop,
    Vehicle,
    plan,
    verify,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "vrp"

SOLOMON = [
    *(f"C1{i:02d}" for i in range(1, 10)),
    *(f"C2{i:02d}" for i in range(1, 9)),
    *(f"R1{i:02d}" for i in range(1, 13)),
    *(f"R2{i:02d}" for i in range(1, 12)),
    *(f"RC1{i:02d}" for i in range(1, 9)),
    *(f"RC2{i:02d}" for i in range(1, 9)),
]
LI_LIM = ["lc101", "lr101", "lrc101", "lc201", "lr201", "lrc201"]
HOMBERGER = ["C1_10_1", "C2_10_1", "R1_10_1", "R2_10_1", "RC1_10_1", "RC2_10_1"]
HOMBERGER_SMALL = [f"{k}_2_1" for k in ("c1", "c2", "r1", "r2", "rc1", "rc2")] + [
    f"{k}_4_1" for k in ("c1", "r1", "rc1")
]

AIMS = {"solomon": 0.25, "li_lim": 0.1, "homberger": 0.5}


# --- instances -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    """A row of an instance file; node 0 is the depot. `sibling` pairs a PDPTW pickup and delivery."""

    index: int
    x: float
    y: float
    demand: int
    ready: int
    due: int
    service: int
    pickup_sibling: int = 0  # on a delivery: its pickup
    delivery_sibling: int = 0  # on a pickup: its delivery


@dataclass(frozen=True, slots=True)
class Instance:
    name: str
    vehicles: int
    capacity: int
    nodes: tuple[Node, ...]

    @property
    def customers(self) -> int:
        return len(self.nodes) - 1


def read_solomon(path: Path) -> Instance:
    """Solomon's text format (also Gehring & Homberger's 200/400 files)."""
    lines = [line.split() for line in path.read_text().splitlines()]
    header = next(i for i, words in enumerate(lines) if words[:1] == ["NUMBER"])
    vehicles, capacity = int(lines[header + 1][0]), int(lines[header + 1][1])
    nodes = []
    for words in lines[header + 2 :]:
        if len(words) == 7 and words[0].isdigit():
            i, x, y, demand, ready, due, service = (int(float(w)) for w in words)
            nodes.append(Node(i, float(x), float(y), demand, ready, due, service))
    return Instance(path.stem, vehicles, capacity, tuple(nodes))


def read_li_lim(path: Path) -> Instance:
    """Li & Lim's PDPTW format: `K Q speed`, then `i x y demand early late service pickup delivery`."""
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    vehicles, capacity = int(rows[0][0]), int(rows[0][1])
    nodes = []
    for words in rows[1:]:
        i, x, y, demand, ready, due, service, pickup, delivery = (int(w) for w in words)
        nodes.append(Node(i, float(x), float(y), demand, ready, due, service, pickup, delivery))
    return Instance(path.stem, vehicles, capacity, tuple(nodes))


def read_vrplib(path: Path) -> Instance:
    """A VRPLIB VRPTW file (the 1,000-customer Gehring & Homberger instances, depot first)."""
    header: dict[str, str] = {}
    sections: dict[str, list[list[str]]] = {}
    current = None
    for line in path.read_text().splitlines():
        words = line.split()
        if not words or words[0] == "EOF":
            continue
        if words[0].endswith("_SECTION"):
            current = words[0]
            sections[current] = []
        elif ":" in line and current is None:
            key, value = line.split(":", 1)
            header[key.strip()] = value.strip()
        elif current is not None:
            sections[current].append(words)
    service = int(header.get("SERVICE_TIME", "0"))
    coords = {int(w[0]): (float(w[1]), float(w[2])) for w in sections["NODE_COORD_SECTION"]}
    demand = {int(w[0]): int(w[1]) for w in sections["DEMAND_SECTION"]}
    windows = {int(w[0]): (int(w[1]), int(w[2])) for w in sections["TIME_WINDOW_SECTION"]}
    depot = int(sections["DEPOT_SECTION"][0][0])
    order = [depot, *sorted(k for k in coords if k != depot)]
    nodes = tuple(
        Node(n, *coords[k], demand[k], *windows[k], 0 if k == depot else service) for n, k in enumerate(order)
    )
    return Instance(path.stem, int(header["VEHICLES"]), int(header["CAPACITY"]), nodes)


@dataclass(frozen=True, slots=True)
class Best:
    objective: float
    vehicles: int


def read_bks(path: Path) -> dict[tuple[str, str], Best]:
    """(instance, objective_type) -> best known, from `bks.csv`."""
    with path.open(newline="") as fh:
        return {
            (row["instance"], row["objective_type"]): Best(float(row["objective"]), int(row["vehicles"]))
            for row in csv.DictReader(fh)
        }


# --- conventions: how an instance's doubles become the planner's integers -----------------


@dataclass(frozen=True, slots=True)
class Convention:
    """`scale` multiplies coordinates' distances and every time; the integer matrices follow."""

    name: str
    scale: int
    distance: Callable[[np.ndarray], np.ndarray]
    duration: Callable[[np.ndarray], np.ndarray]


DOUBLE = Convention(
    "doubles (×1000 in the planner; travel times rounded up)",
    1000,
    lambda d: np.rint(d * 1000).astype(np.int64),
    lambda d: np.ceil(d * 1000 - 1e-6).astype(np.int64),
)
EXACT = Convention(
    "PyVRP exact (×1000, nearest)",
    1000,
    lambda d: np.rint(d * 1000).astype(np.int64),
    lambda d: np.rint(d * 1000).astype(np.int64),
)
DIMACS = Convention(
    "DIMACS (×10, truncated)",
    10,
    lambda d: np.floor(d * 10).astype(np.int64),
    lambda d: np.floor(d * 10).astype(np.int64),
)


def euclidean(instance: Instance) -> np.ndarray:
    xy = np.array([(n.x, n.y) for n in instance.nodes], dtype=np.float64)
    return np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))


def to_problem(instance: Instance, convention: Convention) -> Problem:
    """The instance as the dispatcher would hand it over: one fixed fleet, fixed cost 0."""
    scale = convention.scale
    points = [Point(n.x, n.y) for n in instance.nodes]
    d = euclidean(instance)
    travel = ExplicitTravel(points, convention.distance(d), convention.duration(d))
    depot = instance.nodes[0]
    stops = []
    for n in instance.nodes[1:]:
        if n.delivery_sibling:
            kind, pickup_key, parcels = "pickup", None, n.demand
        elif n.pickup_sibling:
            kind, pickup_key, parcels = "delivery", str(n.pickup_sibling), -n.demand
        else:
            kind, pickup_key, parcels = "delivery", None, n.demand
        stops.append(
            Stop(
                key=str(n.index),
                point=points[n.index],
                kind=kind,  # type: ignore[arg-type]
                window_start=n.ready * scale,
                window_end=n.due * scale,
                service=n.service * scale,
                parcels=parcels,
                weight_g=0,
                pickup_key=pickup_key,
            )
        )
    vehicles = tuple(
        Vehicle(f"v{k + 1}", depot.ready * scale, depot.due * scale, 1.0, instance.capacity, 0, 0, "truck")
        for k in range(instance.vehicles)
    )
    return Problem(points[0], tuple(stops), vehicles, travel)


def float_check(instance: Instance, outcome: Plan) -> tuple[float, list[str]]:
    """The plan's distance in doubles, and any window or capacity it misses in doubles."""
    d = euclidean(instance)
    nodes = instance.nodes
    total, problems = 0.0, []
    for route in outcome.routes:
        seq = [0, *(int(v.key) for v in route.stops), 0]
        clock, load, peak = float(nodes[0].ready), 0, 0
        for a, b in itertools.pairwise(seq):
            total += d[a, b]
            clock = max(clock + d[a, b], nodes[b].ready)
            if clock > nodes[b].due + 1e-9:
                problems.append(f"{route.vehicle_key} reaches {b} at {clock:.4f} > {nodes[b].due}")
            clock += nodes[b].service
            # A VRPTW route loads all its deliveries at the depot: the running sum of positive
            # demands peaks at their total. A PDPTW pickup adds and its delivery removes.
            load += nodes[b].demand
            peak = max(peak, load)
        if peak > instance.capacity:
            problems.append(f"{route.vehicle_key} carries {peak} > {instance.capacity}")
    return total, problems


# --- runs ------------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    customers: int
    feasible: bool
    served: int
    vehicles: int
    distance: float
    best_distance: float | None
    best_hier: Best | None
    seconds: float
    iterations: int
    note: str = ""

    @property
    def gap(self) -> float | None:
        if self.best_distance is None or not self.feasible:
            return None
        return 100 * (self.distance - self.best_distance) / self.best_distance


def run_instance(
    instance: Instance,
    convention: Convention,
    bks: dict[tuple[str, str], Best],
    seconds: float,
    seed: int,
    searches: int,
) -> Row:
    problem = to_problem(instance, convention)
    outcome = plan(problem, seconds=seconds, seed=seed, searches=searches)
    violations = verify(problem, outcome)
    exact_distance, float_problems = float_check(instance, outcome)
    if convention is DOUBLE:
        distance = exact_distance
        feasible = not violations and not float_problems
    else:
        distance = sum(r.distance_m for r in outcome.routes) / convention.scale
        feasible = not violations
    note = "; ".join([*violations, *float_problems][:2])
    if outcome.unserved:
        feasible = False
        note = f"{len(outcome.unserved)} unserved: {outcome.unserved[0].reason}"
    distance_only = bks.get((instance.name, "distance_only"))
    return Row(
        name=instance.name,
        customers=instance.customers,
        feasible=feasible,
        served=instance.customers - len(outcome.unserved),
        vehicles=len(outcome.routes),
        distance=distance,
        best_distance=distance_only.objective if distance_only else None,
        best_hier=bks.get((instance.name, "hierarchical")),
        seconds=outcome.runtime_s,
        iterations=outcome.iterations,
        note=note,
    )


def load_average() -> str:
    """The machine's 1-minute load average: above 2 on these 2 cores, the planner shared its core."""
    return f"{os.getloadavg()[0]:.1f}"


def print_family(family: str, rows: list[Row], convention: Convention, seconds: float) -> None:
    print(f"\n### {family} ({convention.name}, {seconds:g} s per instance)\n")
    print(
        "| instance | n | feasible | vehicles | distance | BKS (distance only) | gap % "
        "| BKS (veh, dist) | vs hierarchical | time s | iterations |"
    )
    print("|---|---:|:-:|---:|---:|---:|---:|---|---|---:|---:|")
    for r in rows:
        best = f"{r.best_distance:.2f}" if r.best_distance is not None else "—"
        gap = f"{r.gap:+.2f}" if r.gap is not None else "—"
        if r.best_hier is not None:
            hier = f"{r.best_hier.vehicles}, {r.best_hier.objective:.2f}"
            versus = (
                f"{r.vehicles - r.best_hier.vehicles:+d} veh, {100 * (r.distance / r.best_hier.objective - 1):+.2f} %"
            )
        else:
            hier = versus = "—"
        status = "yes" if r.feasible else f"NO ({r.note})"
        print(
            f"| {r.name} | {r.customers} | {status} | {r.vehicles} | {r.distance:.2f} | {best} | {gap} "
            f"| {hier} | {versus} | {r.seconds:.1f} | {r.iterations} |"
        )
    gaps = [r.gap for r in rows if r.gap is not None]
    feasible = sum(r.feasible for r in rows)
    hier_rows = [r for r in rows if r.best_hier is not None]
    fewer = sum(r.vehicles <= r.best_hier.vehicles for r in hier_rows if r.best_hier)
    line = f"**{family}**: {feasible}/{len(rows)} feasible"
    if gaps:
        aim = AIMS.get(family)
        verdict = f" (aim ≤ {aim} %: {'met' if statistics.fmean(gaps) <= aim else 'NOT met'})" if aim else ""
        line += (
            f", mean gap to the distance-only BKS {statistics.fmean(gaps):+.3f} %{verdict}"
            f" ({statistics.fmean(max(0.0, g) for g in gaps):+.3f} % counting records beaten as 0),"
            f" worst {max(gaps):+.2f} %"
        )
    if hier_rows:
        mean_hier = statistics.fmean(100 * (r.distance / r.best_hier.objective - 1) for r in hier_rows if r.best_hier)
        line += (
            f"; against the hierarchical BKS: vehicle count matched or beaten on {fewer}/{len(hier_rows)},"
            f" distance {mean_hier:+.2f} % on average"
        )
    line += f"; mean time {statistics.fmean(r.seconds for r in rows):.1f} s; load average {load_average()}"
    print(f"\n{line}")


def run_family(
    family: str,
    data: Path,
    bks: dict[tuple[str, str], Best],
    seconds: float | None,
    quick: bool,
    seed: int,
    searches: int,
) -> None:
    match family:
        case "solomon":
            names, reader, folder, ext, convention, default = SOLOMON, read_solomon, "solomon", "txt", DOUBLE, 10.0
        case "li_lim":
            names, reader, folder, ext, convention, default = LI_LIM, read_li_lim, "li_lim", "txt", EXACT, 10.0
        case "homberger":
            names, reader, folder, ext, convention, default = HOMBERGER, read_vrplib, "homberger", "vrp", DIMACS, 60.0
        case "homberger_small":
            names, reader, folder, ext = HOMBERGER_SMALL, read_solomon, "homberger", "txt"
            convention, default = DOUBLE, 0.0  # 10 s per 100 customers
        case _:
            raise ValueError(family)
    if quick:
        names, default = names[:2], 2.0
    rows = []
    for name in names:
        instance = reader(data / folder / f"{name}.{ext}")
        budget = seconds or default or instance.customers / 10
        rows.append(run_instance(instance, convention, bks, budget, seed, searches))
        print(f"  {name}: {rows[-1].distance:.2f} in {rows[-1].seconds:.1f} s", file=sys.stderr, flush=True)
    print_family(family, rows, convention, seconds or default or 0)


# --- a realistic day -------------------------------------------------------------------------

DHAKA = Point(23.78, 90.40)
HOUR = 3600


def realistic_problem(stops: int = 1000, seed: int = 20261125) -> Problem:
    """A day at a Dhaka hub: 80 % deliveries, 10 % paired shop→customer jobs, the rest returns.

    Customers cluster around a dozen neighbourhoods within about 10 km of the hub; shops are
    40 places customers' paired parcels are collected from. Delivery windows are 2–4 hours
    between 09:00 and 20:00; pickups at shops 10:00–16:00, their delivery from an hour later.
    Motorbikes (25 km/h, 30 parcels, 40 kg) and vans (18 km/h, 150 parcels, 600 kg) work
    08:00–16:00 or 12:00–20:00.
    """
    rng = random.Random(seed)
    km_lat, km_lng = 1 / 111.0, 1 / (111.0 * math.cos(math.radians(DHAKA.lat)))
    centres = [(rng.uniform(-8, 8), rng.uniform(-8, 8)) for _ in range(12)]

    def near(spread_km: float) -> Point:
        cx, cy = rng.choice(centres)
        return Point(
            DHAKA.lat + (cy + rng.gauss(0, spread_km)) * km_lat, DHAKA.lng + (cx + rng.gauss(0, spread_km)) * km_lng
        )

    shops = [near(1.0) for _ in range(40)]

    def window(earliest: int, latest: int) -> tuple[int, int]:
        length = rng.choice([2, 3, 4]) * HOUR
        start = rng.randrange(earliest, latest - length + 1, 1800)
        return start, start + length

    def parcels() -> tuple[int, int]:
        count = rng.choices([1, 2, 3], weights=[70, 22, 8])[0]
        return count, sum(rng.randint(200, 2500) for _ in range(count))

    out: list[Stop] = []
    pairs = stops // 20  # 5 % pickups + 5 % deliveries: about 10 % of the stops
    for i in range(pairs):
        start, end = window(10 * HOUR, 16 * HOUR)
        count, grams = parcels()
        out.append(Stop(f"P{i}", rng.choice(shops), "pickup", start, end, 240, count, grams))
        out.append(
            Stop(
                f"Q{i}", near(1.5), "delivery", start + HOUR, min(20 * HOUR, end + 3 * HOUR), 180, count, grams, f"P{i}"
            )
        )
    returns = stops // 10
    for i in range(returns):
        start, end = window(9 * HOUR, 19 * HOUR)
        count, grams = parcels()
        out.append(Stop(f"R{i}", near(1.5), "pickup", start, end, 180, count, grams))
    for i in range(stops - len(out)):
        start, end = window(9 * HOUR, 20 * HOUR)
        count, grams = parcels()
        out.append(Stop(f"D{i}", near(1.5), "delivery", start, end, rng.choice([120, 180, 240, 300]), count, grams))
    rng.shuffle(out)

    vehicles = []
    for shift, (begin, finish) in enumerate([(8 * HOUR, 16 * HOUR), (12 * HOUR, 20 * HOUR)]):
        vehicles += [Vehicle(f"M{shift}-{k}", begin, finish, 25.0, 30, 40_000, 10_000, "motorbike") for k in range(30)]
        vehicles += [Vehicle(f"V{shift}-{k}", begin, finish, 18.0, 150, 600_000, 25_000, "van") for k in range(4)]
    return Problem(DHAKA, tuple(out), tuple(vehicles), HaversineTravel(detour_factor=1.3))


def run_realistic(seconds: float | None, quick: bool, seed: int, searches: int) -> None:
    budget = seconds or (5.0 if quick else 60.0)
    problem = realistic_problem()
    started = time.perf_counter()
    outcome = plan(problem, seconds=budget, seed=seed, searches=searches)
    wall = time.perf_counter() - started
    violations = verify(problem, outcome)
    by_vehicle = {v.key: v for v in problem.vehicles}
    used = Counter(by_vehicle[r.vehicle_key].vehicle_type for r in outcome.routes)
    reasons = Counter(u.reason for u in outcome.unserved)
    print(f"\n### realistic (1,000 stops around Dhaka, haversine ×1.3, {budget:g} s)\n")
    print("| stops | served | unserved | motorbikes | vans | distance km | violations | time s | iterations |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {len(problem.stops)} | {len(problem.stops) - len(outcome.unserved)} | {len(outcome.unserved)} "
        f"| {used['motorbike']} | {used['van']} | {sum(r.distance_m for r in outcome.routes) / 1000:.1f} "
        f"| {len(violations)} | {wall:.1f} | {outcome.iterations} |"
    )
    for reason, count in reasons.most_common():
        print(f"\nunserved: {count} × {reason}")
    ok = not violations and wall <= 60.0
    print(
        f"\n**realistic**: {'no violation' if not violations else f'{len(violations)} violations: {violations[:2]}'},"
        f" planned in {wall:.1f} s (aim ≤ 60 s, no violation: {'met' if ok else 'NOT met'});"
        f" load average {load_average()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--set", default="all", choices=["solomon", "li_lim", "homberger", "homberger_small", "realistic", "all"]
    )
    parser.add_argument("--seconds", type=float, help="seconds per instance (default: each set's own)")
    parser.add_argument("--quick", action="store_true", help="two instances per set, 2 s each")
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help=f"benchmark data folder (default {DEFAULT_DATA})"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--searches", type=int, default=1, help="searches side by side, one core each (seeds seed, seed+1, …)"
    )
    args = parser.parse_args()
    if not (args.data / "bks.csv").exists():
        sys.exit(f"no benchmark data at {args.data} (bks.csv missing): pass --data")
    bks = read_bks(args.data / "bks.csv")
    families = ["solomon", "li_lim", "homberger", "realistic"] if args.set == "all" else [args.set]
    print(f"## Routing ({time.strftime('%Y-%m-%d')}, seed {args.seed}, {args.searches} search(es) side by side)")
    for family in families:
        if family == "realistic":
            run_realistic(args.seconds, args.quick, args.seed, args.searches)
        else:
            run_family(family, args.data, bks, args.seconds, args.quick, args.seed, args.searches)


if __name__ == "__main__":
    main()
