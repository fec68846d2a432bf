"""Allied's route planner: pure Python over PyVRP, no Django models.

The dispatcher's service turns hubs, riders and tasks into a `Problem`, calls `plan()` and
stores the `Plan`; `verify()` checks any plan against its problem.
"""

from allied.delivery.routing.problem import Point, Problem, Stop, Vehicle
from allied.delivery.routing.result import Plan, PlannedStop, Route, Unserved
from allied.delivery.routing.solver import plan
from allied.delivery.routing.travel import ExplicitTravel, HaversineTravel, TravelMatrix
from allied.delivery.routing.verify import verify

__all__ = [
    "ExplicitTravel",
    "HaversineTravel",
    "Plan",
    "PlannedStop",
    "Point",
    "Problem",
    "Route",
    "Stop",
    "TravelMatrix",
    "Unserved",
    "Vehicle",
    "plan",
    "verify",
]
