"""What integrations keep about people: store orders as the store sent them, with their recipients,
and how one person's mentions leave them."""

import re
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q

from allied.core.contact import phone_normalize
from allied.core.errors import ValidationFailed
from allied.core.privacy import (
    HOSTED,
    DataSubject,
    PersonalField,
    declare_personal_data,
    kept_for,
    register_subject_handlers,
)
from allied.integrations.models import REDACTED_BODY, Connection, InboxMessage
from allied.integrations.services.inbox import inbox_bodies_redact

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

# A run of digits, perhaps with a leading + and the separators people type, long enough to be a phone.
PHONE_LIKE = re.compile(r"\+?\d[\d ().-]{5,18}\d")


def _mentions_email(body: str, email: str) -> bool:
    return re.search(rf"(?<![\w.+-]){re.escape(email)}(?![\w-]|\.\w)", body, re.IGNORECASE) is not None


def _mentions_phone(body: str, phone: str, country: str) -> bool:
    """Stores write a number however the customer typed it (0300 1112233, +92-300-1112233): each
    phone-like run is read in the partner's country and compared in E.164."""
    for candidate in PHONE_LIKE.findall(body):
        try:
            if phone_normalize(candidate, default_country=country, field="phone") == phone:
                return True
        except ValidationFailed:
            continue
    return False


def inbox_messages_about(subject: DataSubject) -> list[InboxMessage]:
    """The kept deliveries whose body names the person's e-mail or phone (that partner's only when
    the subject is scoped to one)."""
    # Narrowed in the database first: by the e-mail, or by the phone's last four digits, which
    # every way of writing the number keeps together; then each body is read properly.
    clue = Q(body__icontains=subject.email) if subject.email else Q(pk__in=[])
    if len(subject.phone) >= 4:
        clue |= Q(body__contains=subject.phone[-4:])
    candidates = InboxMessage.objects.filter(clue).exclude(body=REDACTED_BODY)
    if subject.organization_id is not None:
        candidates = candidates.filter(organization_id=subject.organization_id)
    return [
        message
        for message in candidates.select_related("organization", "connection").order_by("received_at", "pk")
        if (subject.email and _mentions_email(message.body, subject.email))
        or (subject.phone and _mentions_phone(message.body, subject.phone, message.organization.default_country))
    ]


def export_inbox(subject: DataSubject) -> dict[str, Any]:
    return {
        "store_deliveries": [
            {
                "store": str(message.connection),
                "topic": message.topic,
                "received": message.received_at.isoformat(),
                "status": message.status,
            }
            for message in inbox_messages_about(subject)
        ]
    }


@transaction.atomic(savepoint=False)
def erase_inbox(subject: DataSubject) -> int:
    """Settled deliveries naming the person lose their body; pending ones keep it until applied."""
    about = [message.pk for message in inbox_messages_about(subject)]
    return inbox_bodies_redact(messages=InboxMessage.objects.filter(pk__in=about))


register_subject_handlers("integrations", export=export_inbox, erase=erase_inbox, partner_records=True)
