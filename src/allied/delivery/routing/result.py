"""The planner's output."""

from dataclasses import dataclass, field

# Why a stop is not on any route. The dispatcher shows these to people, so they say what to do.
NO_COORDINATES = "no coordinates: place a pin"
WINDOW_UNREACHABLE = "window unreachable from the hub within any shift"
OVER_CAPACITY = "exceeds every vehicle's capacity"
PICKUP_MISSING = "paired pickup missing"
NO_VEHICLES = "no vehicles to plan with"
NO_ROOM = "no capacity or time left in any shift"


@dataclass(frozen=True, slots=True)
class PlannedStop:
    """A visit on a route: the rider arrives, waits for the window if early, serves, leaves."""

    key: str
    arrival: int
    departure: int


@dataclass(frozen=True, slots=True)
class Route:
    vehicle_key: str
    stops: tuple[PlannedStop, ...]
    distance_m: int
    duration_s: int  # from leaving the hub to being back
    start: int  # leaves the hub
    end: int  # back at the hub
    locked: bool = False


@dataclass(frozen=True, slots=True)
class Unserved:
    key: str
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    """Every stop of the problem is either on exactly one route or in `unserved`, with a reason.

    `objective` is metres driven plus the fixed costs of the vehicles used. `feasible` is true
    when `verify()` finds nothing wrong with the plan.
    """

    routes: list[Route]
    unserved: list[Unserved]
    objective: int
    feasible: bool
    runtime_s: float
    violations: list[str] = field(default_factory=list)  # verify()'s findings; empty when feasible
    iterations: int = 0  # of PyVRP's search: fewer than usual means a busy machine
    searches: int = 1  # side by side, from as many seeds; the best of them is the plan
