"""What orders keep about recipients, why and for how long, and how one person's data leaves."""

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q

from allied.core.address import Address
from allied.core.privacy import (
    HOSTED,
    DataSubject,
    PersonalField,
    declare_personal_data,
    kept_while,
    register_subject_handlers,
    shared_about,
    staff_label,
)
from allied.orders.models import Order, OrderEvent, OrderLine
from allied.orders.state import OPEN_STATUSES

# While the order is open, then two years for accounting and claims, counted from its last change
# (its closing, or a later return); erased on request once closed. Its timeline goes with it.
KEPT_FOR_ORDERS = kept_while(
    "the order is open", Q(status__in=OPEN_STATUSES), then=timedelta(days=2 * 365), counts_from="updated_at"
)
KEPT_WITH_ORDER = kept_while(
    "the order is open",
    Q(order__status__in=OPEN_STATUSES),
    then=timedelta(days=2 * 365),
    counts_from="order__updated_at",
)
TO_COURIER = HOSTED | {"delivery_partners"}  # what the parcel's label and the rider need


def _recipient(
    category: str, purpose: str = "last_mile_delivery", shared_with: frozenset[str] = TO_COURIER
) -> PersonalField:
    return PersonalField(category, purpose, KEPT_FOR_ORDERS, legal_basis="contract", shared_with=shared_with)


declare_personal_data(
    Order,
    not_personal={"address_coordinates_source": "where the coordinates came from (given, geocoded, a pin)"},
    personal={
        "recipient_name": _recipient("user.name", "order_fulfillment"),
        "recipient_phone": _recipient("user.contact.phone_number"),
        "recipient_email": _recipient("user.contact.email", "order_fulfillment", HOSTED),
        "address_line1": _recipient("user.contact.address.street"),
        "address_line2": _recipient("user.contact.address.street"),
        "address_area": _recipient("user.contact.address"),
        "address_city": _recipient("user.contact.address.city"),
        "address_region": _recipient("user.contact.address"),
        "address_postcode": _recipient("user.contact.address.postal_code"),
        "address_country": _recipient("user.contact.address"),
        "address_lat": _recipient("user.location.precise"),
        "address_lng": _recipient("user.location.precise"),
        "notes": _recipient("user.content", "order_fulfillment"),
        # Labels the shop sets; free text, so they may name the customer.
        "tags": _recipient("user.content", "order_fulfillment", HOSTED),
    },
)
declare_personal_data(OrderLine, personal={}, not_personal={"name": "a product's name"})
declare_personal_data(
    OrderEvent,
    personal={
        "actor_label": staff_label(KEPT_WITH_ORDER),
        # Cancellation reasons and delivery notes are free text about the parcel and its recipient.
        "payload": PersonalField(
            "user.content", "order_fulfillment", KEPT_WITH_ORDER, legal_basis="contract", shared_with=HOSTED
        ),
    },
)


def _orders_of(subject: DataSubject) -> Any:
    match = Q(recipient_email__iexact=subject.email) if subject.email else Q(pk__in=[])
    if subject.phone:
        match |= Q(recipient_phone=subject.phone)
    orders = Order.objects.filter(match)
    return orders.filter(organization_id=subject.organization_id) if subject.organization_id else orders


def export_orders(subject: DataSubject) -> dict[str, Any]:
    orders = list(_orders_of(subject).order_by("created_at"))
    return {
        "shared_with_service_providers": shared_about(o.number for o in orders),
        "orders": [
            {
                "number": o.number,
                "placed": o.created_at.isoformat(),
                "status": o.status,
                "recipient": o.recipient_name,
                "phone": o.recipient_phone,
                "email": o.recipient_email,
                "address": o.address.one_line,
            }
            for o in orders
        ],
    }


# Timeline payloads keep people's words where a reason or a delivery note was typed.
FREE_TEXT_KEYS = ("reason", "note")


@transaction.atomic(savepoint=False)
def erase_orders(subject: DataSubject) -> int:
    """Closed orders lose the recipient and the words typed about them; open ones keep what the
    parcel needs until they close."""
    closed = list(_orders_of(subject).exclude(status__in=OPEN_STATUSES).values_list("pk", flat=True))
    for event in OrderEvent.objects.filter(order_id__in=closed).only("pk", "payload"):
        if any(event.payload.get(key) for key in FREE_TEXT_KEYS):
            event.payload = event.payload | {key: "" for key in FREE_TEXT_KEYS if key in event.payload}
            event.save(update_fields=["payload"])
    return Order.objects.filter(pk__in=closed).update(
        recipient_name="erased",
        recipient_phone="",
        recipient_email="",
        **Address.erasure(),
        notes="",
        tags=[],
    )


register_subject_handlers("orders", export=export_orders, erase=erase_orders, partner_records=True)
