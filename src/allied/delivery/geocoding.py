"""Finding coordinates for an address that came without them, behind one interface so a real
geocoder (Nominatim, a commercial API) can plug in with a setting. Allied ships the one that
finds nothing: a stop without coordinates then waits for a dispatcher to place a pin."""

from dataclasses import replace
from decimal import Decimal
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from allied.core.address import Address, CoordinatesSource


class Geocoder(Protocol):
    def locate(self, address: Address) -> tuple[float, float] | None:
        """(latitude, longitude) of the door, or None when the address cannot be placed."""


class NoGeocoder:
    """Places nothing: every address without coordinates goes to a dispatcher for a pin."""

    def locate(self, address: Address) -> tuple[float, float] | None:
        return None


@cache
def geocoder() -> Geocoder:
    geocoder_class: type[Geocoder] = import_string(settings.ALLIED_GEOCODER)
    return geocoder_class()


def located(address: Address) -> Address:
    """The address with coordinates: its own, or the geocoder's (marked as geocoded)."""
    if address.lat is not None and address.lng is not None:
        return address
    found = geocoder().locate(address)
    if found is None:
        return address
    lat, lng = (Decimal(str(round(value, 6))) for value in found)
    return replace(address, lat=lat, lng=lng, coordinates_source=CoordinatesSource.GEOCODED)
