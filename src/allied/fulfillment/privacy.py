from allied.core.privacy import PersonalField, declare_personal_data
from allied.fulfillment.models import Manifest, PickList, Return

STAFF_TRAIL = "kept with the warehouse records they explain; pseudonymised when the staff account is erased"

declare_personal_data(
    PickList, personal={"created_by_label": PersonalField("user.contact.email", "security", STAFF_TRAIL)}
)
declare_personal_data(
    Manifest, personal={"created_by_label": PersonalField("user.contact.email", "security", STAFF_TRAIL)}
)
declare_personal_data(
    Return, personal={"received_by_label": PersonalField("user.contact.email", "security", STAFF_TRAIL)}
)
