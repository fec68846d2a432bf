"""Travel times and distances between points, behind one protocol.

The planner asks for a whole matrix at once (road-network services such as OSRM's or
Valhalla's table endpoints answer the same question and can plug in behind `TravelMatrix`
later). Matrices are square int64 arrays in the order of the points given, metres for
distances and seconds for durations. Durations are asked per speed so that each vehicle type
gets its own matrix (a van is slower than a motorbike through the same streets).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from allied.delivery.routing.problem import Point

type IntMatrix = npt.NDArray[np.int64]

EARTH_RADIUS_M = 6_371_008.8  # the mean Earth radius (IUGG)


class TravelMatrix(Protocol):
    def distances(self, points: Sequence[Point]) -> IntMatrix:
        """Metres from each point to each other point."""

    def durations(self, points: Sequence[Point], speed_kmh: float) -> IntMatrix:
        """Seconds from each point to each other point for a vehicle travelling at `speed_kmh`."""


def _haversine_m(points: Sequence[Point]) -> npt.NDArray[np.float64]:
    lat = np.radians(np.array([p.lat for p in points], dtype=np.float64))
    lng = np.radians(np.array([p.lng for p in points], dtype=np.float64))
    dlat = lat[:, None] - lat[None, :]
    dlng = lng[:, None] - lng[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlng / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@dataclass(frozen=True, slots=True)
class HaversineTravel:
    """Great-circle distance times a detour factor (streets are not straight), at a constant speed."""

    detour_factor: float = 1.3

    def _metres(self, points: Sequence[Point]) -> npt.NDArray[np.float64]:
        return _haversine_m(points) * self.detour_factor

    def distances(self, points: Sequence[Point]) -> IntMatrix:
        return np.rint(self._metres(points)).astype(np.int64)

    def durations(self, points: Sequence[Point], speed_kmh: float) -> IntMatrix:
        if speed_kmh <= 0:
            raise ValueError(f"speed must be positive, not {speed_kmh}")
        return np.rint(self._metres(points) / (speed_kmh / 3.6)).astype(np.int64)


@dataclass(frozen=True, slots=True)
class ExplicitTravel:
    """Precomputed matrices over a fixed list of points (benchmark instances, a cached table).

    `durations` is one matrix for every speed, or one per speed. A point asked for is looked up
    by value; equal points share a row, so their rows must be equal.
    """

    points: Sequence[Point]
    distance_matrix: IntMatrix
    duration_matrix: IntMatrix | Mapping[float, IntMatrix]
    _index: dict[Point, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[Point, int] = {}
        for i, point in enumerate(self.points):
            index.setdefault(point, i)
        object.__setattr__(self, "_index", index)

    def _rows(self, points: Sequence[Point]) -> npt.NDArray[np.intp]:
        try:
            return np.array([self._index[p] for p in points], dtype=np.intp)
        except KeyError as missing:
            raise KeyError(f"{missing.args[0]} is not one of this matrix's points") from None

    def distances(self, points: Sequence[Point]) -> IntMatrix:
        rows = self._rows(points)
        return np.asarray(self.distance_matrix, dtype=np.int64)[np.ix_(rows, rows)]

    def durations(self, points: Sequence[Point], speed_kmh: float) -> IntMatrix:
        matrix = self.duration_matrix
        if isinstance(matrix, Mapping):
            matrix = matrix[speed_kmh]
        rows = self._rows(points)
        return np.asarray(matrix, dtype=np.int64)[np.ix_(rows, rows)]
