"""The planner's input: plain frozen dataclasses, no Django.

The dispatcher's service translates hubs, riders and tasks into these and calls
`allied.delivery.routing.plan`. Times are whole seconds since the day's midnight, loads are
parcels and grams, distances are metres. Costs (a vehicle's `fixed_cost`) are in the same unit
as one metre of driving, because the planner minimises metres driven plus fixed costs.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from allied.delivery.routing.travel import TravelMatrix

type StopKind = Literal["delivery", "pickup"]


@dataclass(frozen=True, slots=True)
class Point:
    """A position in degrees (WGS 84); the benchmark's Euclidean instances put x and y here."""

    lat: float
    lng: float


@dataclass(frozen=True, slots=True)
class Stop:
    """One visit.

    A plain delivery leaves from the hub; a plain pickup (a return) brings its parcels back to
    the hub. A delivery whose `pickup_key` names a pickup is the second half of a paired job
    (collect at a shop, deliver to a customer): both go on the same route, the pickup first,
    and the load between them is the larger of the two stops' parcels and grams.
    """

    key: str
    point: Point | None
    kind: StopKind
    window_start: int  # seconds since the day's midnight: the service may not start earlier
    window_end: int  # the service must start by then
    service: int  # seconds spent at the stop
    parcels: int
    weight_g: int
    pickup_key: str | None = None


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A rider and their vehicle for one shift; every route starts and ends at the problem's depot."""

    key: str
    shift_start: int  # may leave the hub from then on
    shift_end: int  # must be back at the hub by then
    speed_kmh: float
    capacity_parcels: int
    capacity_weight_g: int
    fixed_cost: int  # paid once when the vehicle is used, in metre-equivalents
    vehicle_type: str


@dataclass(frozen=True, slots=True)
class Problem:
    """A day's routing problem at one hub.

    `locked` maps a vehicle key to the stop keys of a route the dispatcher has fixed: those
    stops stay on that vehicle in that order, and everything else is planned around them.
    """

    depot: Point
    stops: tuple[Stop, ...]
    vehicles: tuple[Vehicle, ...]
    travel: "TravelMatrix"
    locked: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
