"""Messages to recipients: queued by the consumer of `delivery.*` events, sent once by a task
through the configured backend, in the partner's name, with the tracking link and never the
street; an opt-out is honoured; the sharing register is written before a provider gets a number,
and a provider the privacy notice does not name gets nothing."""

import logging
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from allied.accounts.policy import Actor
from allied.core.address import Address
from allied.core.models import PersonalDataShared
from allied.core.outbox import outbox_relay
from allied.core.sms import SmsBackend, SmsMessage
from allied.core.tracking import TrackingStatus
from allied.delivery.models import DeliveryTask, MessageChannel, MessageStatus, RecipientMessage, TaskKind
from allied.delivery.notifications import recipient_message_send
from allied.delivery.services.recipient import recipient_opt_out, recipient_sms_reply
from allied.delivery.services.tasks import TaskInput, delivery_tasks_create
from allied.delivery.services.tracking import tracking_event_record
from allied.orders.services.intake import order_create
from tests.catalog.factories import ProductFactory
from tests.delivery.factories import HubFactory
from tests.inventory.factories import WarehouseFactory
from tests.orders.factories import order_input

pytestmark = pytest.mark.django_db

STREET = "House 77-Q, Xylophone Lane"
PHONE = "+923007654321"
SENT_TO_GATEWAY: list[SmsMessage] = []


class HostedGateway(SmsBackend):
    """A gateway AES runs on its own hosting (a modem on its servers): a hosting provider."""

    provider = "AES SMS modem"
    provider_category = "hosting_providers"

    def send(self, message: SmsMessage) -> str:
        SENT_TO_GATEWAY.append(message)
        return "msg-1"


class TelecomGateway(HostedGateway):
    """A third-party SMS company: no category of the privacy notice covers it."""

    provider = "Some SMS company"
    provider_category = "communications_providers"


@pytest.fixture(autouse=True)
def _empty_gateway() -> None:
    SENT_TO_GATEWAY.clear()


@pytest.fixture
def task(partner_a) -> DeliveryTask:
    partner_a.name = "Zephyr Shoes"
    partner_a.save()
    HubFactory()
    [stop] = delivery_tasks_create(
        organization=partner_a,
        stops=[
            TaskInput(
                kind=TaskKind.DROP_OFF,
                hub_code="KHI-H1",
                date=timezone.localdate(),
                address=Address.given(
                    line1=STREET, area="PECHS", city="Karachi", lat=Decimal("24.87"), lng=Decimal("67.06")
                ),
                contact_name="Zarghuna Qizilbash",
                contact_phone="0300 7654321",
            )
        ],
        actor=Actor.system("dispatch"),
    )
    return stop


def happen(task: DeliveryTask, *statuses: str, capture) -> list[RecipientMessage]:
    """Move the stop, let the relay run the consumers, and return the messages queued."""
    for status in statuses:
        tracking_event_record(task=task, status=status, actor=Actor.system("dispatch"))
    with capture(execute=True):  # the consumer queues the sending task after the relay's commit
        outbox_relay()
    return list(RecipientMessage.objects.filter(task=task))


def test_out_for_delivery_texts_the_tracking_link_and_no_street(
    task, django_capture_on_commit_callbacks, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="allied.sms")

    [message] = happen(task, TrackingStatus.OUT_FOR_DELIVERY, capture=django_capture_on_commit_callbacks)
    sent = recipient_message_send(message_id=message.pk)

    assert (sent.channel, sent.kind, sent.status) == (MessageChannel.SMS, "out_for_delivery", MessageStatus.SENT)
    [line] = [record.getMessage() for record in caplog.records if record.name == "allied.sms"]
    assert f"/track/{task.tracking_code}" in line
    assert "Zephyr Shoes" in line
    assert "arriving today" in line
    assert "Xylophone" not in line
    assert "Zarghuna" not in line
    assert not PersonalDataShared.objects.exists(), "the console hands the number to nobody"


def test_a_message_is_sent_once(task, django_capture_on_commit_callbacks, settings) -> None:
    settings.ALLIED_SMS_BACKEND = "tests.delivery.test_notifications.HostedGateway"
    [message] = happen(task, TrackingStatus.OUT_FOR_DELIVERY, capture=django_capture_on_commit_callbacks)

    recipient_message_send(message_id=message.pk)
    recipient_message_send(message_id=message.pk)

    assert len(SENT_TO_GATEWAY) == 1


def test_attempt_failed_and_delivered_messages(task, django_capture_on_commit_callbacks, settings) -> None:
    settings.ALLIED_SMS_BACKEND = "tests.delivery.test_notifications.HostedGateway"
    happen(
        task, TrackingStatus.OUT_FOR_DELIVERY, TrackingStatus.ATTEMPT_FAILED, capture=django_capture_on_commit_callbacks
    )

    for message in RecipientMessage.objects.filter(task=task):
        recipient_message_send(message_id=message.pk)

    failed = SENT_TO_GATEWAY[-1].body
    assert f"/track/{task.tracking_code}/change" in failed
    assert "could not deliver" in failed


def test_an_opt_out_is_honoured(task, django_capture_on_commit_callbacks, settings) -> None:
    settings.ALLIED_SMS_BACKEND = "tests.delivery.test_notifications.HostedGateway"
    recipient_opt_out(phone="0300 7654321", source="link")

    [message] = happen(task, TrackingStatus.OUT_FOR_DELIVERY, capture=django_capture_on_commit_callbacks)
    recipient_message_send(message_id=message.pk)

    assert message.status == MessageStatus.OPTED_OUT
    assert SENT_TO_GATEWAY == []


def test_an_opt_out_after_queueing_is_honoured_too(task, django_capture_on_commit_callbacks, settings) -> None:
    settings.ALLIED_SMS_BACKEND = "tests.delivery.test_notifications.HostedGateway"
    [message] = happen(task, TrackingStatus.OUT_FOR_DELIVERY, capture=django_capture_on_commit_callbacks)

    recipient_sms_reply(phone=PHONE, text=" stop ")
    sent = recipient_message_send(message_id=message.pk)

    assert sent.status == MessageStatus.OPTED_OUT
    assert SENT_TO_GATEWAY == []


def test_a_provider_gets_the_number_after_the_sharing_register(
    task, django_capture_on_commit_callbacks, settings
) -> None:
    settings.ALLIED_SMS_BACKEND = "tests.delivery.test_notifications.HostedGateway"
    [message] = happen(task, TrackingStatus.OUT_FOR_DELIVERY, capture=django_capture_on_commit_callbacks)

    recipient_message_send(message_id=message.pk)

    shared = PersonalDataShared.objects.get()
    assert (shared.recipient, shared.recipient_category) == ("AES SMS modem", "hosting_providers")
    assert shared.data_categories == ["user.contact.phone_number"]


def test_a_provider_outside_the_privacy_notice_gets_nothing(task, django_capture_on_commit_callbacks, settings) -> None:
    settings.ALLIED_SMS_BACKEND = "tests.delivery.test_notifications.TelecomGateway"
    [message] = happen(task, TrackingStatus.OUT_FOR_DELIVERY, capture=django_capture_on_commit_callbacks)

    sent = recipient_message_send(message_id=message.pk)

    assert sent.status == MessageStatus.REFUSED
    assert SENT_TO_GATEWAY == []
    assert not PersonalDataShared.objects.exists()


def test_a_partner_s_own_wording(task, django_capture_on_commit_callbacks, settings, partner_a) -> None:
    settings.ALLIED_SMS_BACKEND = "tests.delivery.test_notifications.HostedGateway"
    settings.ALLIED_RECIPIENT_MESSAGES = {
        partner_a.slug: {"out_for_delivery": "Zephyr here! Your shoes come {{ eta }}: {{ tracking_url }}"}
    }
    [message] = happen(task, TrackingStatus.OUT_FOR_DELIVERY, capture=django_capture_on_commit_callbacks)

    recipient_message_send(message_id=message.pk)

    assert SENT_TO_GATEWAY[0].body.startswith("Zephyr here! Your shoes come today: http")


def test_an_order_s_e_mail_address_gets_an_e_mail(task, django_capture_on_commit_callbacks, partner_a) -> None:

    ProductFactory(organization=partner_a, sku="ZS-1")
    order = order_create(
        organization=partner_a,
        actor=Actor.system("tests"),
        warehouse=WarehouseFactory(),
        data=order_input(("ZS-1", 1), recipient_email="zarghuna@example.com"),
    ).order
    DeliveryTask.objects.filter(pk=task.pk).update(order=order)

    messages = happen(task, TrackingStatus.OUT_FOR_DELIVERY, capture=django_capture_on_commit_callbacks)
    for message in messages:
        recipient_message_send(message_id=message.pk)

    [email] = mail.outbox
    assert email.to == ["zarghuna@example.com"]
    assert email.subject == "Zephyr Shoes: your parcel arrives today"
    assert f"/track/{task.tracking_code}" in email.body
    assert "Xylophone" not in email.body


def test_pickups_send_no_recipient_messages(task, django_capture_on_commit_callbacks) -> None:
    DeliveryTask.objects.filter(pk=task.pk).update(kind=TaskKind.PICKUP)

    assert happen(task, TrackingStatus.OUT_FOR_DELIVERY, capture=django_capture_on_commit_callbacks) == []
