"""The carrier registry: everyone who takes parcels from the warehouse door.

Orders and manifests store a carrier's code; the registry turns it into a name for people and,
once the `couriers` app registers one, into the adapter that books and tracks parcels with that
company. It lives in core so that orders and fulfilment can look carriers up without importing
the courier apps above them: those apps attach their adapters here by code when they start.
"""

import re
from dataclasses import dataclass, replace
from enum import StrEnum

from allied.core.errors import FieldError, ValidationFailed

CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")


class CarrierKind(StrEnum):
    OWN_FLEET = "own_fleet"
    COURIER = "courier"


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    kind: CarrierKind
    # Whatever the couriers app registers for this company (booking, labels, status polling);
    # None for AES's own riders and for companies whose parcels are still handed over on paper.
    adapter: object | None = None


_carriers: dict[str, Carrier] = {}


def carrier_register(code: str, name: str, kind: CarrierKind) -> Carrier:
    """Add a carrier. Registering the same carrier again changes nothing; reusing a code for a
    different carrier is a programming error, so it fails loudly at start-up."""
    if not CODE.fullmatch(code):
        raise ValueError(f"A carrier code is lower-case letters, digits and underscores: {code!r}.")
    existing = _carriers.get(code)
    if existing is not None:
        if (existing.name, existing.kind) != (name, kind):
            raise ValueError(f"Carrier code {code!r} is already registered as {existing.name}.")
        return existing
    carrier = _carriers[code] = Carrier(code=code, name=name, kind=CarrierKind(kind))
    return carrier


def carrier_adapter_register(code: str, adapter: object) -> Carrier:
    """Attach the adapter of a registered carrier (called by the couriers app when it starts)."""
    if code not in _carriers:
        raise LookupError(f"No carrier {code!r} to attach an adapter to.")
    carrier = _carriers[code] = replace(_carriers[code], adapter=adapter)
    return carrier


def carrier_get(code: str, *, field: str = "carrier") -> Carrier:
    """The carrier with this code; an unknown code is a validation error on `field`."""
    carrier = _carriers.get(code)
    if carrier is None:
        known = ", ".join(_carriers)
        raise ValidationFailed(
            f"No carrier {code!r}; choose one of {known}.",
            errors=[FieldError(field, f"Unknown carrier. Choose one of {known}.", code="unknown_carrier")],
        )
    return carrier


def carrier_name(code: str) -> str:
    """The name to show for a stored code (the code itself if the carrier is gone)."""
    carrier = _carriers.get(code)
    return carrier.name if carrier is not None else code


def carriers_all() -> list[Carrier]:
    """Every carrier, in the order they were registered."""
    return list(_carriers.values())


def carrier_choices() -> list[tuple[str, str]]:
    """(code, name) pairs for a form's choice field; pass the function itself, so carriers
    registered after the form class is defined still appear."""
    return [(carrier.code, carrier.name) for carrier in _carriers.values()]


carrier_register("aes_riders", "AES riders", CarrierKind.OWN_FLEET)
carrier_register("tcs", "TCS", CarrierKind.COURIER)
carrier_register("leopards", "Leopards Courier", CarrierKind.COURIER)
carrier_register("mp", "M&P", CarrierKind.COURIER)
carrier_register("pathao", "Pathao", CarrierKind.COURIER)
carrier_register("steadfast", "Steadfast", CarrierKind.COURIER)
