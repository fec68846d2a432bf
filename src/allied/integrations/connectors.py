"""The connector interface: what Allied needs of a store platform to take its webhooks in. A new
channel is one module (`shopify.py`, `woocommerce.py`) implementing it, registered here."""

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from allied.orders.services.intake import LineInput, OrderInput


@dataclass(frozen=True)
class TakeIn:
    """Take this order in (idempotent by channel and the store's order id)."""

    order: OrderInput


@dataclass(frozen=True)
class Cancel:
    """The store cancelled (or deleted) this order."""

    store_order_id: str


@dataclass(frozen=True)
class Ignore:
    reason: str


Action = TakeIn | Cancel | Ignore


class Connector(Protocol):
    kind: str
    credential_names: tuple[str, ...]  # what connecting asks for: tokens and secrets, never a password
    webhook_secret: str  # which of them signs the store's webhooks
    topics: frozenset[str]  # the topics it takes; another is refused before anything is stored

    def is_ping(self, body: bytes, headers: Mapping[str, str]) -> bool: ...

    def signature_valid(self, body: bytes, headers: Mapping[str, str], secrets: list[str]) -> bool: ...

    def topic(self, headers: Mapping[str, str]) -> str: ...

    def delivery_key(self, headers: Mapping[str, str]) -> str: ...

    def store_order_id(self, topic: str, payload: Mapping[str, Any]) -> str: ...

    def action(self, topic: str, payload: Mapping[str, Any]) -> Action: ...


def hmac_sha256_base64_matches(body: bytes, signature: str, secrets: list[str]) -> bool:
    """Base64 HMAC-SHA256 of the raw body, compared in constant time with each secret's."""
    given = signature.strip().encode()
    return any(
        hmac.compare_digest(base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()), given)
        for secret in secrets
        if secret
    )


class MappingFailed(Exception):
    """The store's order cannot be mapped to an Allied order (the reason is shown to the partner)."""


def store_amount(value: Any, what: str) -> Decimal:
    """An amount as a store writes it (text or number; missing is zero)."""
    try:
        return Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation as error:
        raise MappingFailed(f"{what} is not an amount: {value!r}.") from error


def store_lines(items: list[Mapping[str, Any]], *, title: str) -> list[LineInput]:
    """A store's line items as order lines, matched to the partner's catalog by SKU; a line
    without a SKU cannot be matched, and says which it is (`title`: the field naming it)."""
    lines = []
    for index, item in enumerate(items):
        if not item.get("sku"):
            raise MappingFailed(f"Line {index + 1} ({item.get(title, '?')}) has no SKU in the store.")
        lines.append(
            LineInput(
                sku=str(item["sku"]),
                quantity=int(item.get("quantity") or 0),
                unit_price=store_amount(item.get("price"), "A line's price"),
            )
        )
    return lines


_connectors: dict[str, Connector] = {}


def connector_register(connector: Connector) -> None:
    _connectors[connector.kind] = connector


def connector_for(kind: str) -> Connector:
    return _connectors[kind]
