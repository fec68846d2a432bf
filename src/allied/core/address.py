"""A postal address as one value, for every row that holds one (orders today, delivery stops
next) and every door that takes one (the API, CSV files, store connectors)."""

from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from typing import Any

from django.db import models


class CoordinatesSource(models.TextChoices):
    NONE = "", "No coordinates"
    GIVEN = "given", "Given by the sender"
    GEOCODED = "geocoded", "Geocoded from the address"
    PIN = "pin", "Placed by an operator"


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    line2: str = ""
    area: str = ""
    region: str = ""
    postcode: str = ""
    country: str = "PK"
    lat: Decimal | None = None
    lng: Decimal | None = None
    coordinates_source: str = CoordinatesSource.NONE

    @classmethod
    def given(cls, **parts: Any) -> "Address":
        """An address as a sender gives it: coordinates, when there are both, are theirs."""
        located = parts.get("lat") is not None and parts.get("lng") is not None
        if not located:
            parts |= {"lat": None, "lng": None}
        return cls(**parts, coordinates_source=CoordinatesSource.GIVEN if located else CoordinatesSource.NONE)

    @classmethod
    def of(cls, row: Any) -> "Address":
        """The address held by a row with `AddressColumns`."""
        return cls(**{part: getattr(row, f"address_{part}") for part in _PARTS})

    def columns(self) -> dict[str, Any]:
        """The address as the `address_*` values of a row with `AddressColumns`."""
        return {f"address_{part}": value for part, value in asdict(self).items()}

    @staticmethod
    def erasure() -> dict[str, Any]:
        """The `address_*` values that erase the person from rows (a bulk update): the city and
        country stay, which count deliveries per place; nothing that finds a door does."""
        erased = asdict(Address(line1="erased", city=""))
        return {f"address_{part}": value for part, value in erased.items() if part not in {"city", "country"}}

    @property
    def one_line(self) -> str:
        return ", ".join(filter(None, [self.line1, self.line2, self.area, self.city]))


_PARTS = tuple(field.name for field in fields(Address))
ADDRESS_COLUMNS = tuple(f"address_{part}" for part in _PARTS)


class AddressColumns(models.Model):
    """The columns of an `Address` on a row (`address_line1` …), declared once. Flat columns,
    not JSON: cities are filtered and counted, and the order intake writes them with lean SQL."""

    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    address_area = models.CharField(max_length=100, blank=True)
    address_city = models.CharField(max_length=100)
    address_region = models.CharField(max_length=100, blank=True)
    address_postcode = models.CharField(max_length=20, blank=True)
    address_country = models.CharField(max_length=2, default="PK")
    address_lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    address_lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    address_coordinates_source = models.CharField(
        max_length=10, choices=CoordinatesSource.choices, default=CoordinatesSource.NONE, blank=True
    )

    class Meta:
        abstract = True

    @property
    def address(self) -> Address:
        return Address.of(self)
