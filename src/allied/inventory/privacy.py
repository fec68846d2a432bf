from allied.core.privacy import PersonalField, declare_personal_data
from allied.inventory.models import CycleCount, InboundShipment, StockMove, Warehouse

STAFF_TRAIL = "kept with the stock records they explain; pseudonymised when the staff account is erased"

declare_personal_data(
    Warehouse,
    personal={},
    not_personal={
        "name": "a warehouse's name",
        "address_line1": "AES's business address",
        "city": "AES's business address",
    },
)
declare_personal_data(StockMove, personal={"actor_label": PersonalField("user.contact.email", "security", STAFF_TRAIL)})
declare_personal_data(
    InboundShipment, personal={"received_by_label": PersonalField("user.contact.email", "security", STAFF_TRAIL)}
)
declare_personal_data(
    CycleCount, personal={"counted_by_label": PersonalField("user.contact.email", "security", STAFF_TRAIL)}
)
