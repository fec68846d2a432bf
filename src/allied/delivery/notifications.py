"""Messages to the people parcels go to: out for delivery (with the arrival window and the tracking
link), delivered, and a failed attempt (with the link to choose another day), by SMS and, when the
order gave an address, by e-mail; and the one-time code that lets them change a delivery.

The consumer of the `delivery.*` events only queues a `RecipientMessage` per channel, in the relay's
transaction; a task sends each one after the commit. Sending is at most once: a message is marked
as handed over before the provider is called, so a crash in between never sends it twice.

Before anything leaves Allied the sharing register is written (`core.privacy.sharing_record`) with
the provider the backend names. The privacy notice lets personal data go to delivery partners,
payment processors and hosting providers only: a provider outside those is refused there and the
message is not sent. The console SMS backend and Django's console and memory mail backends hand
nothing to anyone and write nothing. Messages are worded per partner: the partner's name in
every message, and its own wording where `ALLIED_RECIPIENT_MESSAGES` has one.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.tasks import task
from django.template import engines
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, timezone

from allied.core.models import DomainEvent
from allied.core.outbox import consumer
from allied.core.privacy import SharingRefused, sharing_record
from allied.core.sms import SmsMessage, sms_backend
from allied.core.tasks import retrying
from allied.core.tracking import TrackingStatus
from allied.delivery.models import (
    DeliveryTask,
    MessageChannel,
    MessageStatus,
    RecipientMessage,
    RecipientOptOut,
    TaskKind,
)
from allied.orders.models import Order

logger = logging.getLogger(__name__)

NOTIFIED = (TrackingStatus.OUT_FOR_DELIVERY, TrackingStatus.DELIVERED, TrackingStatus.ATTEMPT_FAILED)
ARRIVAL_MARGIN = timedelta(minutes=30)
# An SMTP server on AES's own hosts is part of its hosting; any other is a communications provider,
# a category the privacy notice does not name (so sharing_record refuses it).
LOCAL_MAIL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
SUBJECTS = {
    TrackingStatus.OUT_FOR_DELIVERY: "{brand}: your parcel arrives today",
    TrackingStatus.DELIVERED: "{brand}: your parcel was delivered",
    TrackingStatus.ATTEMPT_FAILED: "{brand}: we missed you, choose another day",
}


@dataclass(frozen=True)
class Provider:
    name: str
    category: str


# What the recipient is told -----------------------------------------------------------------------


def tracking_url(task: DeliveryTask, name: str = "track") -> str:
    return f"{settings.ALLIED_BASE_URL}{reverse(name, args=[task.tracking_code])}"


def eta_window(task: DeliveryTask, now: datetime | None = None) -> str:
    """When the rider should come: the planned arrival ± 30 minutes once the stop is on a route,
    else its day ("today", "Tue 12 Mar")."""
    today = timezone.localdate(now)
    if task.planned_arrival is not None:
        start = timezone.localtime(task.planned_arrival - ARRIVAL_MARGIN)
        end = timezone.localtime(task.planned_arrival + ARRIVAL_MARGIN)
        day = "today" if start.date() == today else dateformat.format(start, "D j M")
        return f"{day} between {start:%H:%M} and {end:%H:%M}"
    return "today" if task.date == today else dateformat.format(task.date, "D j M")


def message_text(task: DeliveryTask, kind: str, channel: str) -> str:
    """The message in the partner's words when it has its own (`ALLIED_RECIPIENT_MESSAGES`), else ours."""
    context = {
        "brand": task.organization.name,
        "code": task.tracking_code,
        "eta": eta_window(task),
        "tracking_url": tracking_url(task),
        "change_url": tracking_url(task, "track_change"),
        "stop_url": tracking_url(task, "track_stop"),
    }
    key = kind if channel == MessageChannel.SMS else f"{kind}.email"
    own = settings.ALLIED_RECIPIENT_MESSAGES.get(task.organization.slug, {}).get(key)
    if own:
        text = engines["django"].from_string("{% autoescape off %}" + own + "{% endautoescape %}").render(context)
    else:
        text = render_to_string(f"delivery/notifications/{kind}.{channel}.txt", context)
    return text.strip()


# Queued by the consumer, sent by a task -----------------------------------------------------------


def opted_out(phone: str) -> bool:
    return bool(phone) and RecipientOptOut.objects.filter(phone=phone).exists()


@consumer("delivery.recipient_messages", event_types=[f"delivery.{status}" for status in NOTIFIED])
def recipient_messages_queue(event: DomainEvent) -> None:
    """One message per channel for a drop-off's recipient; sent by a task once the relay commits."""
    task = (
        DeliveryTask.objects.filter(pk=int(event.aggregate_id), organization_id=event.organization_id)
        .only("pk", "kind", "order_id", "contact_phone", "organization_id")
        .first()
    )
    if task is None or task.kind != TaskKind.DROP_OFF:
        return
    kind = event.type.removeprefix("delivery.")
    email = ""
    if task.order_id is not None:
        email = Order.objects.filter(pk=task.order_id).values_list("recipient_email", flat=True).first() or ""
    queued = []
    for channel, phone, address in ((MessageChannel.SMS, task.contact_phone, ""), (MessageChannel.EMAIL, "", email)):
        if not (phone or address):
            continue
        message, created = RecipientMessage.objects.get_or_create(
            event_id=event.pk,
            channel=channel,
            defaults={
                "organization_id": task.organization_id,
                "task": task,
                "kind": kind,
                "phone": phone,
                "email": address,
                "status": MessageStatus.OPTED_OUT if opted_out(task.contact_phone) else MessageStatus.QUEUED,
            },
        )
        if created and message.status == MessageStatus.QUEUED:
            queued.append(message.pk)
    for message_id in queued:
        transaction.on_commit(partial(send_recipient_message.enqueue, message_id))


@retrying(max_attempts=1)
@task
def send_recipient_message(message_id: int) -> str:
    return recipient_message_send(message_id=message_id).status


def _sms_provider() -> Provider | None:
    backend = sms_backend()
    return Provider(backend.provider, backend.provider_category) if backend.provider else None


def _mail_provider() -> Provider | None:
    mailer: dict[str, Any] = settings.MAILERS.get("default", {})
    if not str(mailer.get("BACKEND", "")).endswith("smtp.EmailBackend"):
        return None  # the console and memory backends: nothing leaves Allied
    host = str(mailer.get("OPTIONS", {}).get("host", "localhost"))
    category = "hosting_providers" if host in LOCAL_MAIL_HOSTS else "communications_providers"
    return Provider(f"mail server {host}", category)


def _share(provider: Provider | None, *, channel: str, organization_id: int, reference: str) -> None:
    """Write the sharing register before the message leaves; raises SharingRefused when it may not."""
    if provider is None:
        return
    sharing_record(
        organization_id=organization_id,
        recipient=provider.name,
        recipient_category=provider.category,
        data_categories=["user.contact.phone_number" if channel == MessageChannel.SMS else "user.contact.email"],
        purpose="last_mile_delivery",
        reference=reference,
    )


def recipient_message_send(*, message_id: int) -> RecipientMessage:
    """Send one queued message at most once; an opt-out recorded since it was queued is honoured.
    An entry point (a task): it opens its own transactions, none around the provider's call."""
    with transaction.atomic(durable=True):
        message = (
            RecipientMessage.objects.select_for_update(of=("self",))
            .select_related("task__organization", "task__hub")
            .get(pk=message_id)
        )
        if message.status != MessageStatus.QUEUED:
            return message
        provider = _sms_provider() if message.channel == MessageChannel.SMS else _mail_provider()
        try:
            if opted_out(message.phone or message.task.contact_phone):
                message.status = MessageStatus.OPTED_OUT
            else:
                _share(
                    provider,
                    channel=message.channel,
                    organization_id=message.organization_id,
                    reference=f"{message.task.tracking_code} {message.kind}",
                )
                message.status = MessageStatus.SENDING
        except SharingRefused as refused:
            message.status, message.error = MessageStatus.REFUSED, str(refused)[:300]
        message.provider = provider.name if provider else ""
        message.save(update_fields=["status", "error", "provider"])
        if message.status != MessageStatus.SENDING:
            return message
    body = message_text(message.task, message.kind, message.channel)
    try:
        if message.channel == MessageChannel.SMS:
            message.provider_reference = sms_backend().send(SmsMessage(to=message.phone, body=body))[:100]
        else:
            subject = SUBJECTS[TrackingStatus(message.kind)].format(brand=message.task.organization.name)
            send_mail(subject, body, None, [message.email])
        message.status, message.sent_at = MessageStatus.SENT, timezone.now()
    except Exception as error:  # the provider's failure is the message's, not the worker's
        logger.warning("recipient message %s failed: %s", message.pk, error)
        message.status, message.error = MessageStatus.FAILED, f"{type(error).__name__}: {error}"[:300]
    with transaction.atomic(durable=True):
        message.save(update_fields=["status", "sent_at", "provider_reference", "error"])
    return message


def recipient_code_message_send(*, task_id: int, code: str) -> bool:
    """Text a one-time code to the stop's phone (asked for by its owner, so sent despite an
    opt-out). Runs after the commit that stored its hash; False when it could not go."""
    task = DeliveryTask.objects.select_related("organization").get(pk=task_id)
    body = render_to_string(
        "delivery/notifications/code.sms.txt", {"brand": task.organization.name, "code": code}
    ).strip()
    try:
        with transaction.atomic(durable=True):
            _share(
                _sms_provider(),
                channel=MessageChannel.SMS,
                organization_id=task.organization_id,
                reference=f"{task.tracking_code} code",
            )
        sms_backend().send(SmsMessage(to=task.contact_phone, body=body))
    except Exception as error:
        logger.warning("one-time code for stop %s not sent: %s", task.pk, error)
        return False
    return True
