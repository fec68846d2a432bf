"""What the planner and `verify()` both need to read a problem the same way.

Which deliveries form a pair with which pickup, the load a pair carries, and the travel
matrices over the depot and the stops that have coordinates.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from allied.delivery.routing.problem import Problem, Stop
from allied.delivery.routing.travel import IntMatrix


@dataclass(frozen=True, slots=True)
class Pairing:
    """`pickup_of` maps each paired delivery to its pickup (and `delivery_of` back).

    `broken` holds the deliveries whose `pickup_key` names no pickup, or a pickup that an
    earlier delivery already claimed, with the reason they cannot be planned.
    """

    pickup_of: dict[str, str]
    delivery_of: dict[str, str]
    broken: dict[str, str]


def pairing(stops: Iterable[Stop]) -> Pairing:
    by_key = {stop.key: stop for stop in stops}
    pickup_of: dict[str, str] = {}
    delivery_of: dict[str, str] = {}
    broken: dict[str, str] = {}
    for stop in by_key.values():
        if stop.pickup_key is None:
            continue
        pickup = by_key.get(stop.pickup_key)
        if stop.kind != "delivery" or pickup is None or pickup.kind != "pickup":
            broken[stop.key] = "paired pickup missing"
        elif pickup.key in delivery_of:
            broken[stop.key] = f"paired pickup already belongs to delivery {delivery_of[pickup.key]}"
        else:
            pickup_of[stop.key] = pickup.key
            delivery_of[pickup.key] = stop.key
    return Pairing(pickup_of, delivery_of, broken)


def pair_load(pickup: Stop, delivery: Stop) -> tuple[int, int]:
    """A pair carries the larger of its two stops' figures (either side may be the one filled in)."""
    return max(pickup.parcels, delivery.parcels), max(pickup.weight_g, delivery.weight_g)


class Network:
    """Matrices over the depot (row 0) and the given stops (rows 1..n, in order, by key)."""

    def __init__(self, problem: Problem, stops: Iterable[Stop], speeds: Iterable[float]) -> None:
        located = [stop for stop in stops if stop.point is not None]
        self.row = {stop.key: i for i, stop in enumerate(located, start=1)}
        points = [problem.depot, *(stop.point for stop in located if stop.point is not None)]
        self.distance: IntMatrix = np.asarray(problem.travel.distances(points), dtype=np.int64)
        self.duration: dict[float, IntMatrix] = {
            speed: np.asarray(problem.travel.durations(points, speed), dtype=np.int64) for speed in set(speeds)
        }
