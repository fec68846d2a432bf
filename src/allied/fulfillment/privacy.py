from allied.core.privacy import declare_personal_data, staff_trail
from allied.fulfillment.models import Manifest, PickList, Return

# Staff names stay with the warehouse records they explain for two years after the work was done.
declare_personal_data(PickList, personal={"created_by_label": staff_trail("finished_at", "created_at")})
declare_personal_data(Manifest, personal={"created_by_label": staff_trail("closed_at", "created_at")})
declare_personal_data(Return, personal={"received_by_label": staff_trail("received_at", "created_at")})
