from allied.core.privacy import declare_personal_data
from allied.inventory.models import Warehouse

declare_personal_data(
    Warehouse,
    personal={},
    not_personal={
        "name": "a warehouse's name",
        "address_line1": "AES's business address",
        "city": "AES's business address",
    },
)
