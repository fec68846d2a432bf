"""What the couriers app keeps: AES's accounts (no one's personal data), the consignments booked
(ids and order numbers), and couriers' webhook deliveries, whose tracking messages may say where a
parcel was handed over and to whom."""

from datetime import timedelta

from allied.core.privacy import HOSTED, PersonalField, declare_personal_data, kept_for
from allied.couriers.models import CourierAccount, CourierConsignment, CourierWebhook

FROM_COURIER = HOSTED | {"delivery_partners"}  # the courier sent it: it holds the same


def _webhook_field() -> PersonalField:
    return PersonalField(
        "user.contact.address",
        "last_mile_delivery",
        kept_for(timedelta(days=30), counts_from="received_at"),
        legal_basis="contract",
        shared_with=FROM_COURIER,
    )


declare_personal_data(
    CourierAccount,
    personal={},
    not_personal={
        "name": "AES's name for its account with a courier",
        "credentials": "vault tokens of the courier's API tokens and keys",
        "credential_hints": "the last four characters of those",
        "areas": "city and area names an account serves",
    },
)
declare_personal_data(
    CourierConsignment,
    personal={},
    not_personal={"reference": "an order number", "tracking_code": "a courier's tracking code"},
)
declare_personal_data(
    CourierWebhook,
    personal={"body": _webhook_field(), "events": _webhook_field()},
    not_personal={"outcome": "what became of each event: applied or ignored, with the reason"},
)
