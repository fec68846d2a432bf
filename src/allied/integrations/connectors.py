"""The connector interface: what Allied needs of a store platform. A new channel is one module
(`shopify.py`, `woocommerce.py`, `marketplace.py`) implementing `Connector` (reading what the store
sends) and `StoreClient` (asking the store and telling it), registered here."""

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

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


@dataclass(frozen=True)
class Uninstalled:
    """The store removed Allied (its tokens are revoked): the connection is disconnected."""


@dataclass(frozen=True)
class FulfillmentRequest:
    """The store asks Allied, its fulfillment service, to fulfil a fulfillment order, or to cancel
    one (`cancellation`); Allied answers accept or reject through `StoreClient`."""

    fulfillment_order_id: str
    cancellation: bool
    message: str = ""


class PrivacyKind(StrEnum):
    ACCESS = "access"  # a customer asks what the partner's records hold about them
    DELETION = "deletion"  # a customer asks to be erased
    SHOP = "shop"  # the shop left: all its customers' data goes


@dataclass(frozen=True)
class PrivacyRequest:
    """The store passes on a privacy request it has checked. The phone is as the store wrote it:
    the inbox reads it with the partner's country, since a connector does not know the partner."""

    kind: PrivacyKind
    store_reference: str  # the store's id of the request, so a redelivery is recognised
    email: str = ""
    phone: str = ""
    store_order_ids: tuple[str, ...] = ()  # the store's orders the request names


Action = TakeIn | Cancel | Ignore | FulfillmentRequest | Uninstalled | PrivacyRequest


@dataclass(frozen=True)
class StoreOrder:
    """An order as the store's API returned it, in the shape its webhooks carry (`topic`, `payload`),
    so a polled order is applied by the same code as a delivered one."""

    store_order_id: str
    updated_at: datetime
    topic: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class OrderPage:
    orders: list[StoreOrder]
    cursor: str | None  # where the next page starts; None after the last


@dataclass(frozen=True)
class Shipment:
    """A store order handed to a carrier: what the store shows its customer."""

    store_order_id: str
    order_number: str  # Allied's, for the sharing register
    tracking_number: str
    company: str
    url: str
    lines: list[tuple[str, int]] = field(default_factory=list)  # (sku, quantity)


class StoreClient(Protocol):
    """One connection's conversation with its store. Every method raises `core.outbound.OutboundError` when the
    store refuses or cannot be reached after the retries."""

    def check(self) -> str:
        """Prove the credentials work; returns the store's name."""

    def setup(self, *, webhook_address: str) -> dict[str, Any]:
        """Subscribe the webhooks Allied needs (and on Shopify register Allied as a fulfillment
        service); idempotent. Returns what the store assigned (ids) to keep on the connection."""

    def orders_updated_since(self, since: datetime, cursor: str | None) -> OrderPage:
        """Orders changed at or after `since`, oldest change first, one page at a time."""

    def shipment_confirm(self, shipment: Shipment) -> None:
        """Tell the store the order left with a carrier (tracking number, company, link)."""

    def stock_set(self, available: Mapping[str, int]) -> list[str]:
        """Set the sellable quantity of each SKU; returns the SKUs the store does not have."""

    def close(self) -> None: ...


class Connector(Protocol):
    kind: str
    credential_names: tuple[str, ...]  # what connecting asks for: tokens and secrets, never a password
    webhook_secret: str  # which of them signs the store's webhooks ("" when the store sends none)
    topics: frozenset[str]  # the topics it takes; another is refused before anything is stored

    def is_ping(self, body: bytes, headers: Mapping[str, str]) -> bool: ...

    def signature_valid(self, body: bytes, headers: Mapping[str, str], secrets: list[str]) -> bool: ...

    def topic(self, headers: Mapping[str, str]) -> str: ...

    def delivery_key(self, headers: Mapping[str, str]) -> str: ...

    def store_order_id(self, topic: str, payload: Mapping[str, Any]) -> str: ...

    def action(self, topic: str, payload: Mapping[str, Any]) -> Action: ...

    def updated_at(self, payload: Mapping[str, Any]) -> datetime | None:
        """When the store last changed the order this payload is about (an older state never
        overwrites a newer one)."""

    def client(self, connection: Any) -> StoreClient: ...


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


# Query parameters that carry personal data when a carrier puts them in a tracking link.
TRACKING_LINK_PERSONAL = {
    "name": "user.name",
    "phone": "user.contact.phone_number",
    "mobile": "user.contact.phone_number",
    "email": "user.contact.email",
    "address": "user.contact.address.street",
    "city": "user.contact.address.city",
    "postcode": "user.contact.address.postal_code",
    "zip": "user.contact.address.postal_code",
    "lat": "user.location.precise",
    "lng": "user.location.precise",
}


def tracking_link_shares(url: str) -> list[str]:
    """The personal data a tracking link carries in its query (some carriers put the recipient's
    phone or postcode there); a link with only the tracking number carries none."""
    categories = set()
    for key, value in parse_qsl(urlsplit(url).query):
        for part in key.lower().replace("-", "_").split("_"):
            if value and part in TRACKING_LINK_PERSONAL:
                categories.add(TRACKING_LINK_PERSONAL[part])
    return sorted(categories)


_connectors: dict[str, Connector] = {}


def connector_register(connector: Connector) -> None:
    _connectors[connector.kind] = connector


def connector_for(kind: str) -> Connector:
    return _connectors[kind]
