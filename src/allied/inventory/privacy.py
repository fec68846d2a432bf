from allied.core.privacy import declare_personal_data, staff_trail
from allied.inventory.models import CycleCount, InboundShipment, StockMove, Warehouse

declare_personal_data(
    Warehouse,
    personal={},
    not_personal={
        "name": "a warehouse's name",
        "address_line1": "AES's business address",
        "city": "AES's business address",
    },
)
# Staff names stay with the stock records they explain for two years after the work was done.
declare_personal_data(StockMove, personal={"actor_label": staff_trail("at")})
declare_personal_data(InboundShipment, personal={"received_by_label": staff_trail("received_at", "created_at")})
declare_personal_data(CycleCount, personal={"counted_by_label": staff_trail("finished_at", "created_at")})
