from allied.core.privacy import declare_personal_data
from allied.delivery.models import Hub

declare_personal_data(
    Hub,
    personal={},
    not_personal={
        "name": "a depot's name",
        "address_line1": "AES's business address",
        "city": "AES's business address",
        "lat": "a depot's location",
        "lng": "a depot's location",
    },
)
