"""What integrations keep about people: store orders as the store sent them, with their recipients."""

from datetime import timedelta

from allied.core.privacy import HOSTED, PersonalField, declare_personal_data, kept_for
from allied.integrations.models import Connection, InboxMessage

declare_personal_data(
    InboxMessage,
    personal={
        # The raw webhook: a store order names its customer, address, phone and e-mail.
        "body": PersonalField(
            "user.contact.address",
            "order_fulfillment",
            kept_for(timedelta(days=30), counts_from="received_at"),
            legal_basis="contract",
            shared_with=HOSTED,
        ),
    },
)
declare_personal_data(
    Connection,
    personal={},
    not_personal={
        "name": "a store's name",
        "credentials": "vault tokens of the store's API credentials",
        "credential_hints": "the last four characters of those credentials",
        "remote": "ids the store assigned to Allied's fulfillment service, location and webhooks",
        "last_poll_error": "a store API's error message",
        "last_check_error": "a store API's error message",
        "last_stock_push_error": "a store API's error message",
        "comparison": "store order ids and Allied order numbers missing on either side, with counts",
    },
)
