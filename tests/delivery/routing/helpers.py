"""Small problems around a hub in Dhaka, for the planner's tests."""

from allied.delivery.routing import HaversineTravel, Point, Problem, Stop, Vehicle

HUB = Point(23.78, 90.40)
HOUR = 3600
DAY = (8 * HOUR, 20 * HOUR)


def east(km: float, north_km: float = 0.0) -> Point:
    """A point `km` east and `north_km` north of the hub."""
    return Point(HUB.lat + north_km / 111.0, HUB.lng + km / (111.0 * 0.9151))


def stop(key: str, point: Point | None, **fields: object) -> Stop:
    values: dict[str, object] = {
        "kind": "delivery",
        "window_start": DAY[0],
        "window_end": DAY[1],
        "service": 120,
        "parcels": 1,
        "weight_g": 500,
    }
    values.update(fields)
    return Stop(key=key, point=point, **values)  # type: ignore[arg-type]


def motorbike(key: str, shift: tuple[int, int] = DAY, **fields: object) -> Vehicle:
    values: dict[str, object] = {
        "speed_kmh": 25.0,
        "capacity_parcels": 30,
        "capacity_weight_g": 40_000,
        "fixed_cost": 10_000,
        "vehicle_type": "motorbike",
    }
    values.update(fields)
    return Vehicle(key=key, shift_start=shift[0], shift_end=shift[1], **values)  # type: ignore[arg-type]


def van(key: str, shift: tuple[int, int] = DAY, **fields: object) -> Vehicle:
    values: dict[str, object] = {
        "speed_kmh": 18.0,
        "capacity_parcels": 150,
        "capacity_weight_g": 600_000,
        "fixed_cost": 25_000,
        "vehicle_type": "van",
    }
    values.update(fields)
    return Vehicle(key=key, shift_start=shift[0], shift_end=shift[1], **values)  # type: ignore[arg-type]


def problem(stops: list[Stop], vehicles: list[Vehicle], locked: dict[str, tuple[str, ...]] | None = None) -> Problem:
    return Problem(HUB, tuple(stops), tuple(vehicles), HaversineTravel(detour_factor=1.3), locked or {})
