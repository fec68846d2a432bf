"""What the last mile's API takes and answers: hubs, riders and shifts (AES dispatch), stops and
paired jobs (partners and dispatch), plans and routes."""

import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import AliasPath, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, WrapValidator
from pydantic.json_schema import WithJsonSchema
from pydantic_core import PydanticCustomError

from allied.core.schemas import Amount, Cursor, Date, Input, Latitude, Limit, Longitude, Money, QueryInput
from allied.core.tracking import TrackingStatus
from allied.orders.schemas import AddressIn, AddressOut

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Required = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"\S")]
HubCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16, pattern=r"\S")]
Slug = Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)]

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")
CLOCK_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$"


def _clock_text(value: Any) -> Any:
    if isinstance(value, time):
        return value
    if isinstance(value, str) and _CLOCK.match(value):
        return time.fromisoformat(value)
    raise PydanticCustomError("time_format", "Use a local time of day as HH:MM, such as 09:30.")


# A local time of day at the hub (Asia/Karachi for AES's hubs): HH:MM or HH:MM:SS, no offset.
ClockTime = Annotated[
    time,
    BeforeValidator(_clock_text),
    WithJsonSchema({"type": "string", "pattern": CLOCK_PATTERN, "examples": ["09:30"]}),
]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _all(related: Any) -> Any:
    return list(related.all()) if hasattr(related, "all") else related


# Hubs ---------------------------------------------------------------------------------------------

AREAS_HELP = (
    "Area names or postcodes the hub serves (a stop whose area, postcode or city is one of them). With "
    "neither areas nor a polygon the hub serves its city."
)
POLYGON_HELP = (
    "The area the hub serves as a polygon of `[lat, lng]` points (at least 3, each within range); a stop with "
    "coordinates inside it is served. Empty: no polygon."
)
Point = Annotated[list[float], Field(min_length=2, max_length=2, description="[lat, lng]")]
Area = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
DetourFactor = Annotated[
    float,
    Field(
        ge=1,
        le=5,
        description="How much longer roads are than straight lines: travel = straight distance × this ÷ speed.",
        examples=[1.3],
    ),
]


class HubUpdateIn(Input):
    name: Required | None = Field(default=None, examples=["Karachi Central Hub"])
    address_line1: Required | None = Field(default=None, examples=["Shahrah-e-Faisal, Block 6, PECHS"])
    city: Required | None = Field(default=None, examples=["Karachi"])
    lat: Latitude | None = Field(default=None, examples=[24.8615], description="Where riders start and end.")
    lng: Longitude | None = Field(default=None, examples=[67.0699])
    detour_factor: DetourFactor | None = None
    service_areas: list[Area] | None = Field(default=None, max_length=200, description=AREAS_HELP)
    service_polygon: list[Point] | None = Field(default=None, max_length=500, description=POLYGON_HELP)
    day_start: ClockTime | None = Field(default=None, description="When the hub's day starts (local time).")
    day_end: ClockTime | None = Field(default=None, description="When it ends; after `day_start`.")
    is_active: bool | None = Field(default=None, description="An inactive hub takes no new stops.")


class HubCreateIn(Input):
    code: HubCode = Field(
        examples=["KHI-H1"], description="Up to 16 letters, digits and hyphens; stored upper-case; cannot change."
    )
    name: Required = Field(examples=["Karachi Central Hub"])
    address_line1: Required = Field(examples=["Shahrah-e-Faisal, Block 6, PECHS"])
    city: Required = Field(examples=["Karachi"])
    lat: Latitude = Field(examples=[24.8615], description="Where riders start and end.")
    lng: Longitude = Field(examples=[67.0699])
    detour_factor: DetourFactor = 1.3
    service_areas: list[Area] = Field(default=[], max_length=200, description=AREAS_HELP)
    service_polygon: list[Point] = Field(default=[], max_length=500, description=POLYGON_HELP)
    day_start: ClockTime = Field(default=time(8), description="When the hub's day starts (local time).")
    day_end: ClockTime = Field(default=time(20), description="When it ends; after `day_start`.")


class HubOut(Out):
    code: str = Field(examples=["KHI-H1"])
    name: str
    address_line1: str
    city: str
    lat: float
    lng: float
    detour_factor: float
    service_areas: list[str]
    service_polygon: list[list[float]]
    day_start: time
    day_end: time
    is_active: bool


# Riders and shifts ---------------------------------------------------------------------------------


class VehicleTypeOut(Out):
    code: str = Field(examples=["motorbike"])
    name: str
    speed_kmh: float = Field(description="Average speed through the city.")


class RiderCreateIn(Input):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254)] = Field(
        examples=["imran@aes.example"],
        description="The rider's sign-in address: a new AES user with the rider role, or that person if they "
        "already are an AES rider (a member of a partner's team, or AES staff in another role, is refused).",
    )
    full_name: Required = Field(examples=["Imran Qureshi"])
    hub: HubCode = Field(examples=["KHI-H1"], description="The hub's code: where the rider starts and ends.")
    vehicle_type: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)] = Field(
        examples=["motorbike"], description="A vehicle type's code (`bicycle`, `motorbike`, `van` …)."
    )
    capacity_parcels: int | None = Field(
        default=None, gt=0, le=10_000, examples=[30], description="How many parcels fit; the vehicle type's if absent."
    )
    capacity_kg: float | None = Field(
        default=None, gt=0, le=99_999.9, examples=[40], description="How many kg; the vehicle type's if absent."
    )
    fixed_cost: int = Field(
        default=20_000,
        ge=0,
        le=10_000_000,
        description="What using this rider at all costs a plan, in metres of driving: plans prefer fewer riders.",
    )


class RiderOut(Out):
    id: int
    full_name: str = Field(validation_alias=AliasPath("user", "full_name"))
    email: str = Field(validation_alias=AliasPath("user", "email"))
    hub: str = Field(validation_alias=AliasPath("hub", "code"), examples=["KHI-H1"])
    vehicle_type: VehicleTypeOut
    capacity_parcels: int
    capacity_kg: float
    fixed_cost: int
    is_active: bool


class RiderFilters(QueryInput):
    hub: HubCode | None = Field(default=None, description="Only the riders of this hub.")


class ShiftIn(Input):
    start: ClockTime = Field(description="When the shift starts (local time).")
    end: ClockTime = Field(description="When it ends; after `start`.")


class ShiftOut(Out):
    date: date
    start: time
    end: time


class ShiftFilters(QueryInput):
    since: Date | None = Field(default=None, description="From this day (YYYY-MM-DD); today if absent.")
    until: Date | None = Field(default=None, description="Up to and including this day.")


# Stops ---------------------------------------------------------------------------------------------


class StopFieldsIn(Input):
    hub: HubCode = Field(examples=["KHI-H1"], description="The code of the hub that serves the address.")
    date: Date = Field(examples=["2026-01-31"], description="The day of the stop (YYYY-MM-DD), today or later.")
    address: AddressIn = Field(
        description="Where the rider goes; inside the hub's areas. Coordinates (`lat`, `lng`, both or neither) "
        "let the stop be planned: a stop without them waits for a pin."
    )
    contact_name: Required = Field(examples=["Hina Baig"], description="Who to ask for at the door.")
    contact_phone: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=32)] = Field(
        examples=["+92 300 1112233"],
        description="International or as dialled in the organization's country; answered in E.164.",
    )
    window_start: ClockTime | None = Field(
        default=None, description="The earliest arrival (local time); with `window_end`, or neither."
    )
    window_end: ClockTime | None = Field(default=None, description="The latest arrival; after `window_start`.")
    service_minutes: int = Field(default=5, ge=0, le=240, description="Minutes spent at the door.")
    parcels: int = Field(default=1, ge=1, le=1000)
    weight_grams: int = Field(default=500, ge=0, le=1_000_000)
    cod_amount: Money = Field(default=Decimal("0"), description="Cash to collect at the door.")
    instructions: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    reference: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] = Field(
        default="", examples=["SHOP-10023"], description="Your own reference for the stop."
    )


KIND_HELP = "`drop_off` (deliver), `pickup` (collect from you or a shop) or `return_pickup` (collect a return)."


class StopIn(StopFieldsIn):
    kind: Literal["drop_off", "pickup", "return_pickup"] = Field(default="drop_off", description=KIND_HELP)


class PairIn(Input):
    """A same-day job: the rider collects here, then delivers there; both halves at one hub on one day."""

    pickup: StopFieldsIn
    drop_off: StopFieldsIn


def _stop_or_pair(value: Any, handler: Any) -> Any:
    """A pair when it has `pickup` or `drop_off`, else one stop: its errors then name the stop's own
    fields (`stops[3].address.lat`), not which alternative was tried."""
    if isinstance(value, StopIn | PairIn):
        return value
    if isinstance(value, dict) and ("pickup" in value or "drop_off" in value):
        return PairIn.model_validate(value)
    return StopIn.model_validate(value)


BulkItem = Annotated[StopIn | PairIn, WrapValidator(_stop_or_pair)]
ORGANIZATION_HELP = (
    "The partner the stops are for, by its slug. AES dispatch keys must name it; a partner's key may leave it "
    "out (or name its own organization)."
)


class DeliveryTaskCreateIn(StopIn):
    organization: Slug = Field(default="", examples=["kohsar"], description=ORGANIZATION_HELP)


class DeliveryTaskBulkIn(Input):
    organization: Slug = Field(default="", examples=["kohsar"], description=ORGANIZATION_HELP)
    stops: list[BulkItem] = Field(
        min_length=1,
        max_length=500,
        description='Single stops and paired jobs (`{"pickup": {…}, "drop_off": {…}}`). All or nothing: one '
        "bad stop stores none, and each error names its stop (`stops[3].address.lat`).",
    )


class TrackingEventOut(Out):
    status: str = Field(examples=["at_hub"])
    reason: str
    at: datetime
    place: str = Field(description="A hub, an area or a city: never a door.")


class DeliveryTaskOut(Out):
    tracking_code: str = Field(examples=["AES-7K2M-9QXH-4RTB-8"])
    kind: str = Field(examples=["drop_off"], description=KIND_HELP)
    organization: str = Field(validation_alias=AliasPath("organization", "slug"), examples=["kohsar"])
    hub: str = Field(validation_alias=AliasPath("hub", "code"), examples=["KHI-H1"])
    date: date
    status: str = Field(examples=["at_hub"], description="Where the stop is: the last tracking event's status.")
    pickup_tracking_code: str | None = Field(
        validation_alias=AliasPath("pickup", "tracking_code"),
        default=None,
        description="For the drop-off of a paired job: its pickup's tracking code.",
    )
    reference: str
    address: AddressOut
    contact_name: str
    contact_phone: str = Field(examples=["+923001112233"])
    window_start: time | None
    window_end: time | None
    service_minutes: int
    parcels: int
    weight_grams: int
    cod_amount: Amount
    instructions: str
    attempts: int
    failure_reason: str
    sequence: int | None = Field(description="Its place on its route, once planned.")
    planned_arrival: datetime | None
    unplanned_reason: str = Field(description="Why the last plan left it out, if it did.")
    courier: str = Field(
        description="The courier company it is handed to (`pathao`, `steadfast`); empty: AES's riders."
    )
    consignment_id: str = Field(description="The courier's consignment, once booked.")
    courier_refusal: str = Field(
        description="Why the courier refused to book it, in its words: correct the stop, then book it again."
    )
    created_at: datetime


class DeliveryTaskDetailOut(DeliveryTaskOut):
    events: list[TrackingEventOut] = Field(validation_alias="tracking_events", description="Oldest first.")
    cod_collected: Amount | None = Field(
        description="The cash collected at the door, as the rider or the courier reported it; null until delivered."
    )
    cod_collected_by: str | None = Field(description="Who reported it: `rider_app` or the courier's code.")
    cod_mismatch: bool = Field(description="The cash reported differs from `cod_amount`: dispatch looks into it.")


class DeliveryTaskPageOut(Schema):
    items: list[DeliveryTaskOut]
    next_cursor: str | None


class DeliveryTaskFilters(QueryInput):
    hub: HubCode | None = Field(default=None, description="A hub's code.")
    date: Date | None = Field(default=None, description="The stops of one day (YYYY-MM-DD).")
    status: TrackingStatus | None = None
    organization: Slug | None = Field(default=None, description="AES only: one partner's stops, by slug.")
    cursor: Cursor | None = None
    limit: Limit = 50


class MoveIn(Input):
    route_id: int = Field(gt=0, description="The route the stop goes to the end of: same hub, same day.")


# Plans and routes ----------------------------------------------------------------------------------


class PlanIn(Input):
    date: Date = Field(examples=["2026-01-31"], description="The day to plan (YYYY-MM-DD), today or later.")
    seconds: int = Field(
        default=5,
        ge=1,
        le=600,
        description="The planner's time limit. Up to 10 the plan runs at once and the answer is the finished "
        "plan (200); longer, it runs in the background (202): poll `GET /plans/{plan_id}`.",
    )


class PlannedRouteOut(BaseModel):
    route_id: int
    rider: str
    stops: int
    distance_m: int
    duration_s: int
    locked: bool = Field(description="Kept as it was: locked, or already started.")


class UnplannedOut(BaseModel):
    tracking_code: str
    reason: str = Field(examples=["no coordinates: place a pin"])


class PlanSummaryOut(BaseModel):
    routes: list[PlannedRouteOut]
    unplanned: list[UnplannedOut] = Field(description="Every stop left out, with why.")
    feasible: bool = Field(description="The plan keeps every window, shift and capacity.")
    violations: list[str]
    objective: int = Field(description="Metres driven plus the fixed costs of the riders used.")
    runtime_s: float
    searches: int = Field(1, description="Searches run side by side from different seeds; the best is the plan.")
    stops: int
    riders: int


class PlanRunOut(Out):
    id: UUID = Field(validation_alias="public_id")
    hub: str = Field(validation_alias=AliasPath("hub", "code"))
    date: date
    seconds: int
    status: Literal["queued", "running", "done", "failed"]
    progress: float = Field(ge=0, le=1, description="How much of the time limit has passed, 0 to 1.")
    summary: PlanSummaryOut | None = Field(description="Once done: its routes and its unplanned stops.")
    error: str
    requested_at: datetime
    finished_at: datetime | None


class RiderBriefOut(Out):
    id: int
    full_name: str = Field(validation_alias=AliasPath("user", "full_name"))
    vehicle_type: str = Field(validation_alias=AliasPath("vehicle_type", "code"))


class RouteStopOut(Out):
    tracking_code: str
    kind: str
    sequence: int | None
    planned_arrival: datetime | None
    window_start: time | None
    window_end: time | None
    area: str = Field(validation_alias="address_area", description="The area only: the door is the rider's.")
    city: str = Field(validation_alias="address_city")
    status: str


class RouteOut(Out):
    id: int
    hub: str = Field(validation_alias=AliasPath("hub", "code"))
    date: date
    rider: RiderBriefOut
    status: str = Field(examples=["draft"], description="`draft`, `published` (on the rider's phone) or `done`.")
    locked: bool = Field(description="A locked route is kept as it is by the next plan.")
    starts_at: datetime
    ends_at: datetime
    distance_m: int
    duration_s: int
    stops: Annotated[list[RouteStopOut], BeforeValidator(_all)] = Field(description="In the order they are driven.")


class RouteFilters(QueryInput):
    date: Date | None = Field(default=None, description="The day (YYYY-MM-DD); today if absent.")


# Courier accounts ------------------------------------------------------------------------------------

CourierCode = Literal["pathao", "steadfast"]
AreaName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
CREDENTIALS_HELP = (
    "What the courier issued. Pathao: `client_id`, `client_secret`, `username`, `password` (exchanged once "
    "for tokens, never stored), `store_id`, `webhook_secret`. Steadfast: `api_key`, `secret_key`, "
    "`webhook_token`. The courier checks them before anything is stored; none is ever returned."
)


class CourierAccountOut(Out):
    id: int
    code: str = Field(examples=["pathao"])
    name: str
    areas: list[str] = Field(description="Cities or areas whose parcels it takes; empty: everywhere.")
    status: Literal["active", "paused"]
    sandbox: bool
    last_success_at: datetime | None = Field(description="When the courier last answered a request of this account.")
    created_at: datetime


class CourierAccountCreateIn(Input):
    code: CourierCode
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    areas: list[AreaName] = Field(default_factory=list, max_length=200)
    sandbox: bool = False
    credentials: dict[
        Annotated[str, StringConstraints(max_length=40)], Annotated[str, StringConstraints(max_length=500)]
    ] = Field(description=CREDENTIALS_HELP, max_length=10)


class CourierAccountUpdateIn(Input):
    areas: list[AreaName] | None = Field(default=None, max_length=200)
    active: bool | None = Field(default=None, description="false pauses it: nothing new is booked through it.")
