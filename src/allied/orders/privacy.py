"""What orders keep about recipients, why and for how long, and how one person's data leaves."""

from typing import Any

from django.db import transaction
from django.db.models import Q

from allied.core.privacy import DataSubject, PersonalField, declare_personal_data, register_subject_handlers
from allied.orders.models import Order, OrderEvent, OrderLine
from allied.orders.state import OPEN_STATUSES

KEPT_FOR_ORDERS = "while the order is open, then 2 years for accounting and claims; erased on request once closed"

declare_personal_data(
    Order,
    personal={
        "recipient_name": PersonalField("user.name", "order_fulfillment", KEPT_FOR_ORDERS),
        "recipient_phone": PersonalField("user.contact.phone_number", "last_mile_delivery", KEPT_FOR_ORDERS),
        "recipient_email": PersonalField("user.contact.email", "order_fulfillment", KEPT_FOR_ORDERS),
        "address_line1": PersonalField("user.contact.address.street", "last_mile_delivery", KEPT_FOR_ORDERS),
        "address_line2": PersonalField("user.contact.address.street", "last_mile_delivery", KEPT_FOR_ORDERS),
        "address_area": PersonalField("user.contact.address", "last_mile_delivery", KEPT_FOR_ORDERS),
        "address_city": PersonalField("user.contact.address.city", "last_mile_delivery", KEPT_FOR_ORDERS),
        "address_region": PersonalField("user.contact.address", "last_mile_delivery", KEPT_FOR_ORDERS),
        "address_postcode": PersonalField("user.contact.address.postal_code", "last_mile_delivery", KEPT_FOR_ORDERS),
        "address_country": PersonalField("user.contact.address", "last_mile_delivery", KEPT_FOR_ORDERS),
        "address_lat": PersonalField("user.location.precise", "last_mile_delivery", KEPT_FOR_ORDERS),
        "address_lng": PersonalField("user.location.precise", "last_mile_delivery", KEPT_FOR_ORDERS),
        "notes": PersonalField("user.content", "order_fulfillment", KEPT_FOR_ORDERS),
    },
)
declare_personal_data(OrderLine, personal={}, not_personal={"name": "a product's name"})
declare_personal_data(
    OrderEvent,
    personal={
        "actor_label": PersonalField(
            "user.contact.email", "security", "kept with the order; pseudonymised when the staff account is erased"
        )
    },
)


def _orders_of(subject: DataSubject) -> Any:
    match = Q(recipient_email__iexact=subject.email) if subject.email else Q(pk__in=[])
    if subject.phone:
        match |= Q(recipient_phone=subject.phone)
    return Order.objects.filter(match)


def export_orders(subject: DataSubject) -> dict[str, Any]:
    return {
        "orders": [
            {
                "number": o.number,
                "placed": o.created_at.isoformat(),
                "status": o.status,
                "recipient": o.recipient_name,
                "phone": o.recipient_phone,
                "email": o.recipient_email,
                "address": ", ".join(filter(None, [o.address_line1, o.address_line2, o.address_area, o.address_city])),
            }
            for o in _orders_of(subject).order_by("created_at")
        ]
    }


@transaction.atomic(savepoint=False)
def erase_orders(subject: DataSubject) -> int:
    """Closed orders lose the recipient; open ones keep what the parcel needs until they close."""
    return (
        _orders_of(subject)
        .exclude(status__in=OPEN_STATUSES)
        .update(
            recipient_name="erased",
            recipient_phone="",
            recipient_email="",
            address_line1="erased",
            address_line2="",
            address_area="",
            address_region="",
            address_postcode="",
            address_lat=None,
            address_lng=None,
            notes="",
        )
    )


register_subject_handlers("orders", export=export_orders, erase=erase_orders)
