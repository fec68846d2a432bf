"""Parcels handed to courier companies, against the local fakes of Pathao and Steadfast through
real HTTP and the real worker: booked once from the handover, moved on by the courier's webhooks
(delivered to Allied's door through Django's test client), a missed webhook caught by the poll,
and the order delivered in the end."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client

from allied.accounts.policy import Actor
from allied.core.address import Address
from allied.core.errors import Conflict
from allied.core.models import DomainEvent, PersonalDataShared
from allied.core.tracking import TrackingStatus
from allied.couriers.base import CourierError
from allied.couriers.models import CourierAccount, CourierConsignment, CourierWebhook
from allied.couriers.pathao import INTEGRATION_HEADER
from allied.couriers.services import courier_account_create
from allied.delivery.models import DeliveryTask, TrackingEvent
from allied.delivery.services.couriers import (
    courier_label_pdf,
    courier_task_book,
    courier_task_cancel,
    courier_task_from_handover,
    courier_webhook_apply,
)
from allied.delivery.tasks import poll_courier_stops
from allied.orders.models import Order, OrderStatus, PaymentMethod
from allied.orders.services.intake import order_create
from allied.orders.services.lifecycle import order_hand_over, order_pack, order_pick, order_start_picking
from tests.catalog.factories import ProductFactory
from tests.core.test_no_plaintext_secrets import database_dump
from tests.delivery.factories import HubFactory
from tests.fakes.pathao import CREDENTIALS as PATHAO
from tests.fakes.pathao import FakePathao
from tests.fakes.pathao import fake_pathao as fake_pathao  # the fixture
from tests.fakes.steadfast import CREDENTIALS as STEADFAST
from tests.fakes.steadfast import FakeSteadfast
from tests.fakes.steadfast import fake_steadfast as fake_steadfast  # the fixture
from tests.fakes.woocommerce import django_target
from tests.orders.factories import order_input
from tests.worker import run_until_quiet

SYSTEM = Actor.system("tests")
S = TrackingStatus


@pytest.fixture
def dhaka_hub():
    return HubFactory(code="DHK-H1", name="Dhaka Tejgaon Hub", city="Dhaka")


def handed_over(partner_a, carrier: str, *, phone: str = "+8801712345678") -> Order:
    """A COD order to Dhaka (of a KURTA in stock), picked, packed and handed to the carrier."""
    order = order_create(
        organization=partner_a,
        data=order_input(
            ("KURTA", 1),
            recipient_name="Nusrat Jahan",
            recipient_phone=phone,
            address=Address(line1="House 12, Road 4", area="Dhanmondi", city="Dhaka", postcode="1209", country="BD"),
            currency="BDT",
            payment_method=PaymentMethod.COD,
            cod_amount=Decimal("1250.00"),
        ),
        actor=SYSTEM,
    ).order
    order_start_picking(order=order, actor=SYSTEM)
    order_pick(order=order, code="KURTA", quantity=1, actor=SYSTEM)
    order_pack(order=order, scanned_codes=["KURTA"], weight_grams=300, dimensions_mm="300x200x50", actor=SYSTEM)
    return order_hand_over(order=order, carrier=carrier, actor=SYSTEM)


def pathao_account(fake: FakePathao) -> CourierAccount:
    tokens = fake.issue_tokens()
    credentials = {
        "client_id": PATHAO["client_id"],
        "client_secret": PATHAO["client_secret"],
        "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
        "store_id": PATHAO["store_id"],
        "webhook_secret": PATHAO["webhook_secret"],
    }
    return courier_account_create(code="pathao", name="Pathao", credentials=credentials, actor=SYSTEM)


def to_allied(fake: FakePathao | FakeSteadfast, code: str) -> None:
    """The fake delivers its webhooks to Allied's door, through Django's test client."""
    fake.webhook_url = f"http://testserver/couriers/{code}/webhooks"
    fake.target = django_target(Client())


def drop_off(order: Order) -> DeliveryTask:
    return DeliveryTask.objects.get(order=order)


def statuses(task: DeliveryTask) -> list[str]:
    return list(TrackingEvent.objects.filter(task=task).order_by("id").values_list("status", flat=True))


@pytest.mark.django_db(transaction=True)
def test_a_pathao_parcel_is_booked_moved_on_by_webhooks_and_delivered(
    partner_a, floor, stock_in, dhaka_hub, fake_pathao: FakePathao
) -> None:
    pathao_account(fake_pathao)
    to_allied(fake_pathao, "pathao")
    with transaction.atomic():
        stock_in(ProductFactory(organization=partner_a, sku="KURTA"), 3)
        order = handed_over(partner_a, "pathao")

    run_until_quiet()  # the handover's consumer makes the drop-off; its task books it

    task = drop_off(order)
    assert (task.courier, task.status, task.unplanned_reason) == ("pathao", S.PICKUP_SCHEDULED, "")
    booked = fake_pathao.orders[task.consignment_id]
    assert (booked["merchant_order_id"], booked["recipient_phone"], booked["amount_to_collect"]) == (
        order.number,
        "01712345678",
        1250,
    )
    assert CourierConsignment.objects.get().consignment_id == task.consignment_id
    shared = PersonalDataShared.objects.get(reference=order.number)
    assert (shared.organization_id, shared.recipient_category) == (partner_a.pk, "delivery_partners")

    for event in ("order.picked", "order.in-transit", "order.delivered"):
        delivery = fake_pathao.advance(task.consignment_id, event, collected_amount=1250)
        assert delivery is not None
        assert delivery.status == 202, event
        run_until_quiet()

    task.refresh_from_db()
    order.refresh_from_db()
    assert task.status == S.DELIVERED
    assert statuses(task) == [S.CREATED, S.PICKUP_SCHEDULED, S.PICKED_UP, S.IN_TRANSIT, S.DELIVERED]
    assert TrackingEvent.objects.filter(task=task, source="pathao").count() == 3
    assert order.status == OrderStatus.DELIVERED
    delivered = DomainEvent.objects.get(type="delivery.delivered")
    assert (delivered.payload["carrier"], delivered.payload["order_number"]) == ("pathao", order.number)
    assert CourierWebhook.objects.filter(status="processed").count() == 3
    assert fake_pathao.deliveries[-1].status == 202
    assert PATHAO["webhook_secret"] not in database_dump()  # the header that carried it is not kept


@pytest.mark.django_db(transaction=True)
def test_a_bad_signature_is_401_stores_nothing_and_a_missed_webhook_is_caught_by_the_poll(
    partner_a, floor, stock_in, dhaka_hub, fake_pathao: FakePathao
) -> None:
    pathao_account(fake_pathao)
    with transaction.atomic():
        stock_in(ProductFactory(organization=partner_a, sku="KURTA"), 3)
        order = handed_over(partner_a, "pathao")
    run_until_quiet()
    task = drop_off(order)
    to_allied(fake_pathao, "pathao")

    forged = fake_pathao.deliver(
        {"event": "order.delivered", "consignment_id": task.consignment_id, "timestamp": "2026-12-05T11:00:00+00:00"},
        secret="not-the-secret",
    )
    run_until_quiet()

    task.refresh_from_db()
    assert forged.status == 401
    assert not CourierWebhook.objects.exists()
    assert task.status == S.PICKUP_SCHEDULED

    fake_pathao.webhook_url = ""  # Pathao moves the parcel on and sends nothing
    fake_pathao.advance(task.consignment_id, "order.in-transit")
    poll_courier_stops.enqueue()
    run_until_quiet()

    task.refresh_from_db()
    assert task.status == S.IN_TRANSIT
    assert statuses(task)[-2:] == [S.PICKED_UP, S.IN_TRANSIT]  # its pickup follows from the transit
    assert "Pathao reports In_Transit" in TrackingEvent.objects.get(task=task, status=S.PICKED_UP).reason
    assert not CourierWebhook.objects.exists()

    fake_pathao.advance(task.consignment_id, "order.delivered")
    poll_courier_stops.enqueue()
    run_until_quiet()

    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert DomainEvent.objects.filter(type="delivery.delivered").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_steadfast_parcel_goes_the_same_way(
    partner_a, floor, stock_in, dhaka_hub, fake_steadfast: FakeSteadfast
) -> None:
    courier_account_create(code="steadfast", name="Steadfast", credentials=STEADFAST, actor=SYSTEM)
    to_allied(fake_steadfast, "steadfast")
    with transaction.atomic():
        stock_in(ProductFactory(organization=partner_a, sku="KURTA"), 3)
        order = handed_over(partner_a, "steadfast")
    run_until_quiet()
    task = drop_off(order)
    assert fake_steadfast.consignments[task.consignment_id]["invoice"] == order.number

    forged = fake_steadfast.deliver({"consignment_id": int(task.consignment_id), "status": "delivered"}, token="nope")
    moved = [fake_steadfast.advance(task.consignment_id, status) for status in ("pending", "delivered")]
    run_until_quiet()

    task.refresh_from_db()
    order.refresh_from_db()
    assert forged.status == 401
    assert [delivery.status for delivery in moved if delivery] == [200, 200]
    assert statuses(task) == [S.CREATED, S.PICKUP_SCHEDULED, S.PICKED_UP, S.IN_TRANSIT, S.DELIVERED]
    assert order.status == OrderStatus.DELIVERED
    assert CourierConsignment.objects.get().tracking_code.startswith("SFR")


# The services on their own ------------------------------------------------------------------------


@pytest.fixture
def booked(partner_a, floor, stock_in, dhaka_hub, fake_pathao: FakePathao) -> DeliveryTask:
    stock_in(ProductFactory(organization=partner_a, sku="KURTA"), 3)
    pathao_account(fake_pathao)
    order = handed_over(partner_a, "pathao")
    task = courier_task_from_handover(order=order, actor=SYSTEM)
    assert task is not None
    return courier_task_book(task_id=task.pk)


@pytest.mark.django_db
def test_a_late_or_unreachable_status_is_kept_as_ignored_and_answered_as_accepted(
    booked: DeliveryTask, fake_pathao: FakePathao
) -> None:
    to_allied(fake_pathao, "pathao")
    delivered = fake_pathao.advance(booked.consignment_id, "order.delivered")
    created_again = fake_pathao.advance(booked.consignment_id, "order.created")
    assert (delivered and delivered.status, created_again and created_again.status) == (202, 202)

    outcomes = [courier_webhook_apply(webhook_id=webhook.pk) for webhook in CourierWebhook.objects.order_by("id")]

    booked.refresh_from_db()
    assert booked.status == S.DELIVERED
    assert outcomes[0] == [f"{booked.consignment_id} order.delivered: picked_up then delivered"]
    assert "ignored" in outcomes[1][0]
    assert statuses(booked)[-1] == S.DELIVERED


@pytest.mark.django_db
def test_pathaos_answer_carries_its_integration_header_and_a_set_up_check_keeps_nothing(
    booked: DeliveryTask, fake_pathao: FakePathao
) -> None:
    answer = Client().post(
        "/couriers/pathao/webhooks",
        b'{"event": "webhook_integration"}',
        content_type="application/json",
        headers={"X-PATHAO-Signature": PATHAO["webhook_secret"]},
    )

    assert answer.status_code == 202
    assert answer.headers[INTEGRATION_HEADER]
    assert not CourierWebhook.objects.exists()
    assert Client().post("/couriers/tcs/webhooks", b"{}", content_type="application/json").status_code == 404


@pytest.mark.django_db
def test_a_refused_booking_is_noted_on_the_stop_and_not_retried(
    partner_a, floor, stock_in, dhaka_hub, fake_pathao: FakePathao
) -> None:
    stock_in(ProductFactory(organization=partner_a, sku="KURTA"), 3)
    pathao_account(fake_pathao)
    order = handed_over(partner_a, "pathao", phone="+923001112233")  # not a number Pathao takes
    task = courier_task_from_handover(order=order, actor=SYSTEM)
    assert task is not None

    task = courier_task_book(task_id=task.pk)

    task.refresh_from_db()
    assert (task.consignment_id, task.status) == ("", S.CREATED)
    assert task.unplanned_reason.startswith("Not booked: Pathao refused to book")
    assert fake_pathao.orders == {}


@pytest.mark.django_db
def test_an_unreachable_courier_is_retried(booked, partner_a, fake_pathao: FakePathao) -> None:
    order = handed_over(partner_a, "pathao")
    task = courier_task_from_handover(order=order, actor=SYSTEM)
    assert task is not None
    for _ in range(4):
        fake_pathao.fail_next(503)

    with pytest.raises(CourierError):
        courier_task_book(task_id=task.pk, sleep=lambda seconds: None)

    task.refresh_from_db()
    assert task.consignment_id == ""
    assert "Not booked" in task.unplanned_reason
    assert courier_task_book(task_id=task.pk).consignment_id  # the retry books it


@pytest.mark.django_db
def test_booking_twice_books_once(booked: DeliveryTask, fake_pathao: FakePathao) -> None:
    again = courier_task_book(task_id=booked.pk)

    assert again.consignment_id == booked.consignment_id
    assert len(fake_pathao.orders) == 1


@pytest.mark.django_db
def test_the_label_names_the_consignment_and_the_recipient(booked: DeliveryTask) -> None:
    pdf = courier_label_pdf(task=booked)

    assert pdf.startswith(b"%PDF-")
    assert f"Consignment {booked.consignment_id}".encode() in pdf
    assert b"Nusrat Jahan" in pdf


@pytest.mark.django_db
def test_cancelling_a_booked_stop_says_where_to_ask_and_changes_nothing(booked: DeliveryTask) -> None:
    with pytest.raises(CourierError, match="merchant panel"):
        courier_task_cancel(task=booked, actor=SYSTEM)

    booked.refresh_from_db()
    assert booked.status == S.PICKUP_SCHEDULED


@pytest.mark.django_db
def test_an_unbooked_stop_is_cancelled_here(partner_a, floor, stock_in, dhaka_hub) -> None:
    stock_in(ProductFactory(organization=partner_a, sku="KURTA"), 3)
    order = handed_over(partner_a, "steadfast")
    task = courier_task_from_handover(order=order, actor=SYSTEM)
    assert task is not None

    cancelled = courier_task_cancel(task=task, actor=SYSTEM, reason="Sent with AES riders instead")

    assert cancelled.status == S.CANCELLED
    with pytest.raises(Conflict), transaction.atomic():
        courier_label_pdf(task=cancelled)
