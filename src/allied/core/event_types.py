"""The catalogue of domain event types: every event Allied records, its version and the schema of
its payload, in one place. Recorders take an `EventType`, never a free string, so an event that is
not in the catalogue cannot be written; subscribers (internal consumers, partners' webhooks) are
promised exactly these payloads. A change that removes or retypes a field is a new version."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from allied.core.tracking import TrackingStatus


class Payload(BaseModel):
    """A payload may carry more than its schema names (consumers ignore what they do not know);
    what the schema names must be there with its type."""

    model_config = ConfigDict(extra="allow")


class OrderLinePayload(Payload):
    sku: str
    quantity: int
    allocated: int


class OrderPayload(Payload):
    id: int
    number: str
    channel: str
    external_id: str
    status: str
    tracking_code: str
    carrier: str
    lines: list[OrderLinePayload] | None = None


class StockLevelPayload(Payload):
    product_id: int
    warehouse_id: int
    on_hand: int
    reserved: int
    quarantined: int
    available: int
    cause: str


class DeliveryPayload(Payload):
    """A step of a parcel's last mile. `place` is a hub, an area or a city, never a door; nothing
    here names the recipient."""

    tracking_code: str
    kind: str  # drop_off, pickup, return_pickup
    status: str
    reason: str
    at: datetime
    place: str
    carrier: str  # aes_riders or a courier company's code
    order_id: int | None
    order_number: str
    external_id: str  # the order's id in its channel (a store's order id)
    channel: str


class ProductPayload(Payload):
    id: int
    sku: str
    name: str
    barcodes: list[str]
    declared_value: str
    currency: str
    is_active: bool


class InboundLinePayload(Payload):
    sku: str
    quantity: int | None = None


class InboundPayload(Payload):
    reference: str
    lines: list[InboundLinePayload]


class WebhookTestPayload(Payload):
    subscription_id: int
    message: str


class WebhookDisabledPayload(Payload):
    subscription_id: int
    url: str
    reason: str


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    payload: type[Payload]
    description: str

    def validate(self, payload: dict[str, Any]) -> None:
        self.payload.model_validate(payload)


CATALOGUE: dict[str, EventType] = {}


def _declare(name: str, payload: type[Payload], description: str, *, version: int = 1) -> EventType:
    event_type = EventType(name, version, payload, description)
    CATALOGUE[name] = event_type
    return event_type


PRODUCT_CREATED = _declare("product.created", ProductPayload, "A partner added a product to the catalog.")
PRODUCT_UPDATED = _declare("product.updated", ProductPayload, "A product's details changed.")
INBOUND_ANNOUNCED = _declare("inbound.announced", InboundPayload, "A partner announced an inbound shipment (ASN).")
INBOUND_RECEIVED = _declare("inbound.received", InboundPayload, "An inbound shipment was received at the dock.")
STOCK_LEVEL_CHANGED = _declare(
    "inventory.level_changed", StockLevelPayload, "A product's balances in a warehouse changed."
)
ORDER_CREATED = _declare("order.created", OrderPayload, "An order was taken in (or split off a backorder).")

OrderStatusName = Literal[
    "allocated", "picking", "packed", "handed_over", "delivered", "attempt_failed", "returned", "cancelled"
]
ORDER_STATUS_CHANGED: dict[str, EventType] = {
    status: _declare(f"order.{status}", OrderPayload, f"An order became {status.replace('_', ' ')}.")
    for status in OrderStatusName.__args__  # type: ignore[attr-defined]
}

DELIVERY_STATUS_CHANGED: dict[str, EventType] = {
    status.value: _declare(f"delivery.{status.value}", DeliveryPayload, f"A parcel's last mile: {status.label}.")
    for status in TrackingStatus
}


# Sent only on request, to the one endpoint asked; recorded when the relay disables an endpoint
# (integrations mails the partner's owners). Neither is a family a partner subscribes to.
WEBHOOK_TEST = _declare("webhook.test", WebhookTestPayload, "A test event, sent on request to one endpoint.")
WEBHOOK_DISABLED = _declare(
    "webhook.disabled", WebhookDisabledPayload, "An endpoint was disabled because its deliveries kept failing."
)

# The families a partner's endpoint may subscribe to as `<family>.*`: every type of the family,
# those declared later included (the subscription stores the pattern, and the fan-out matches it),
# so a family may be named before its first type is (shipments, deliveries).
FAMILIES = ("order", "inventory", "product", "inbound", "shipment", "delivery")


def family_of(name: str) -> str:
    return name.split(".", 1)[0]


def subscribable_topics() -> list[str]:
    """What a partner's endpoint may subscribe to: each family as `<family>.*`, then each type."""
    return [f"{family}.*" for family in FAMILIES] + sorted(name for name in CATALOGUE if family_of(name) in FAMILIES)


def topic_covers(topic: str, event_type: str) -> bool:
    """Whether a subscription's topic (a type, `<family>.*` or `*`) takes this event type; the
    fan-out in `core.events` says the same in SQL."""
    return topic in (event_type, "*") or (topic.endswith(".*") and family_of(event_type) == topic[:-2])


def event_type_named(name: str) -> EventType:
    """The catalogue's entry, for subscriptions naming types; unknown names raise KeyError."""
    return CATALOGUE[name]


def envelope(
    *, event_id: int, event_type: EventType, organization_id: int, aggregate: str, occurred_at: datetime, data: Any
) -> dict[str, Any]:
    """What a subscriber receives: the event's identity and version around its payload."""
    return {
        "id": f"evt_{event_id}",
        "type": event_type.name,
        "version": event_type.version,
        "occurred_at": occurred_at.isoformat().replace("+00:00", "Z"),
        "organization_id": organization_id,
        "aggregate": aggregate,
        "data": data,
    }
