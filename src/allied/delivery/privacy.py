"""What the last mile keeps about recipients and senders, why and for how long, and how one
person's data leaves: the address and contact a stop needs, the proof of delivery, and where
each tracking event happened."""

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
    kept_for,
    kept_while,
    register_subject_handlers,
    shared_about,
    staff_label,
)
from allied.delivery.models import (
    OPEN_STATUSES,
    DeliveryCode,
    DeliveryTask,
    HandBack,
    HandBackSettlement,
    Hub,
    PlanRun,
    Proof,
    RecipientMessage,
    RecipientOptOut,
    Route,
    Shift,
    TrackingEvent,
    VehicleType,
)

# While the stop is open, then 90 days for claims and disputes, counted from its last change.
KEPT_FOR_STOPS = kept_while(
    "the stop is open", Q(status__in=OPEN_STATUSES), then=timedelta(days=90), counts_from="updated_at"
)
KEPT_WITH_STOP = kept_while(
    "the stop is open", Q(task__status__in=OPEN_STATUSES), then=timedelta(days=90), counts_from="task__updated_at"
)
TO_COURIER = HOSTED | {"delivery_partners"}  # a stop given to a courier company goes with its address


def _stop(category: str, retention: Any = KEPT_FOR_STOPS, shared_with: frozenset[str] = TO_COURIER) -> PersonalField:
    return PersonalField(category, "last_mile_delivery", retention, legal_basis="contract", shared_with=shared_with)


declare_personal_data(
    Hub,
    personal={},
    not_personal={
        "name": "a depot's name",
        "address_line1": "AES's business address",
        "city": "AES's business address",
        "lat": "a depot's location",
        "lng": "a depot's location",
        "service_areas": "area names and postcodes a hub serves",
        "service_polygon": "the outline of the area a hub serves",
    },
)
declare_personal_data(VehicleType, personal={}, not_personal={"name": "a kind of vehicle"})
declare_personal_data(Shift, personal={})
declare_personal_data(Route, personal={})
declare_personal_data(
    PlanRun,
    personal={"requested_by": staff_label(kept_for(timedelta(days=90), counts_from="requested_at"))},
    not_personal={"summary": "route and stop ids, counts, costs and reasons a stop was left out"},
)
declare_personal_data(
    DeliveryTask,
    not_personal={
        "address_coordinates_source": "where the coordinates came from (given, geocoded, a pin)",
        "courier_refusal": "a courier's words on the fields it refused, not their values",
    },
    personal={
        "contact_name": _stop("user.name"),
        "contact_phone": _stop("user.contact.phone_number"),
        "address_line1": _stop("user.contact.address.street"),
        "address_line2": _stop("user.contact.address.street"),
        "address_area": _stop("user.contact.address"),
        "address_city": _stop("user.contact.address.city"),
        "address_region": _stop("user.contact.address"),
        "address_postcode": _stop("user.contact.address.postal_code"),
        "address_country": _stop("user.contact.address"),
        "address_lat": _stop("user.location.precise"),
        "address_lng": _stop("user.location.precise"),
        "instructions": _stop("user.content"),
    },
)
declare_personal_data(
    Proof,
    personal={
        "recipient_name": _stop("user.name", KEPT_WITH_STOP, HOSTED),
        "signature_svg": _stop("user.content", KEPT_WITH_STOP, HOSTED),
        "photo": _stop("user.content", KEPT_WITH_STOP, HOSTED),
    },
)
declare_personal_data(
    TrackingEvent,
    personal={
        # Where the rider stood when recording it: at a door, that is the recipient's.
        "lat": _stop("user.location.precise", KEPT_WITH_STOP, HOSTED),
        "lng": _stop("user.location.precise", KEPT_WITH_STOP, HOSTED),
        "actor_label": staff_label(KEPT_WITH_STOP),
    },
    not_personal={"place": "a hub, area or city, never a door", "reason": "a reason code's text"},
)
declare_personal_data(DeliveryCode, personal={}, not_personal={"code_hash": "a one-way hash of a one-time code"})
# Whom a message about a stop went to: kept with the stop, for the recipient's questions and disputes.
declare_personal_data(
    RecipientMessage,
    personal={
        "phone": _stop("user.contact.phone_number", KEPT_WITH_STOP, HOSTED),
        "email": _stop("user.contact.email", KEPT_WITH_STOP, HOSTED),
    },
    not_personal={"provider": "the name of the SMS or mail service a message was handed to"},
)
# Kept so that the request is honoured: as long as messages may be sent to the number at all.
declare_personal_data(
    RecipientOptOut,
    personal={
        "phone": PersonalField(
            "user.contact.phone_number",
            "last_mile_delivery",
            kept_for(timedelta(days=3 * 365), counts_from="created_at"),
            legal_basis="legal_obligation",
            shared_with=HOSTED,
        )
    },
)
declare_personal_data(
    HandBack,
    personal={"recorded_by": staff_label(kept_for(timedelta(days=365), counts_from="at"))},
    not_personal={"expected_codes": "tracking codes of the parcels the rider brings back"},
)
declare_personal_data(
    HandBackSettlement,
    personal={"settled_by_label": staff_label(kept_for(timedelta(days=365), counts_from="at"))},
    not_personal={"reason": "why cash or parcels were written off"},
)


def _stops_of(subject: DataSubject) -> Any:
    match = Q(pk__in=[])
    if subject.phone:
        match |= Q(contact_phone=subject.phone)
    stops = DeliveryTask.objects.filter(match)
    return stops.filter(organization_id=subject.organization_id) if subject.organization_id else stops


def export_stops(subject: DataSubject) -> dict[str, Any]:
    stops = list(_stops_of(subject).select_related("hub").prefetch_related("events", "messages").order_by("created_at"))
    return {
        "shared_with_service_providers": shared_about(stop.tracking_code for stop in stops),
        "delivery_stops": [
            {
                "tracking_code": stop.tracking_code,
                "kind": stop.kind,
                "date": stop.date.isoformat(),
                "status": stop.status,
                "contact": stop.contact_name,
                "phone": stop.contact_phone,
                "address": stop.address.one_line,
                "instructions": stop.instructions,
                "proof": (
                    {"recipient_name": stop.proof.recipient_name, "at": stop.proof.at.isoformat()}
                    if hasattr(stop, "proof")
                    else None
                ),
                "events": [{"status": e.status, "at": e.at.isoformat(), "place": e.place} for e in stop.events.all()],
                "messages": [
                    {"kind": m.kind, "channel": m.channel, "status": m.status, "at": m.created_at.isoformat()}
                    for m in stop.messages.all()
                ],
            }
            for stop in stops
        ],
        "delivery_message_opt_out": RecipientOptOut.objects.filter(phone=subject.phone).exists()
        if subject.phone
        else False,
    }


@transaction.atomic(savepoint=False)
def erase_stops(subject: DataSubject) -> int:
    """Closed stops lose the person; open ones keep what the rider needs until they close."""
    closed = _stops_of(subject).exclude(status__in=OPEN_STATUSES)
    Proof.objects.filter(task__in=closed).update(recipient_name="", signature_svg="", photo="")
    TrackingEvent.objects.filter(task__in=closed).update(lat=None, lng=None)
    RecipientMessage.objects.filter(task__in=closed).update(phone="", email="")
    # An opt-out stays: erasing it would start the messages again.
    return closed.update(contact_name="erased", contact_phone="", instructions="", **Address.erasure())


def opt_out_stops(subject: DataSubject) -> int:
    """No more delivery texts to the number, whichever partner's parcel they are about."""
    if not subject.phone:
        return 0
    return int(RecipientOptOut.objects.get_or_create(phone=subject.phone, defaults={"source": "request"})[1])


register_subject_handlers(
    "delivery", export=export_stops, erase=erase_stops, opt_out=opt_out_stops, partner_records=True
)
