"""A courier's refusal and a courier's cash, against the local fakes: a booking Pathao refuses shows
why (failed-deliveries queue, dispatch board, API), and after the phone is corrected "Book again"
books it exactly once, page or API; the cash Pathao and Steadfast report with a delivery is kept
on the stop as a rider's is, once under repeated webhooks, and a different amount is flagged."""

import json
from decimal import Decimal

import pytest
from django.test import Client

from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.accounts.services import api_key_create
from allied.core.models import AuditEntry
from allied.core.tracking import TrackingStatus
from allied.couriers.models import CourierWebhook, CourierWebhookStatus
from allied.couriers.services import courier_account_create
from allied.delivery.models import DeliveryTask, Proof
from allied.delivery.services.couriers import courier_task_book, courier_task_from_handover, courier_webhook_apply
from allied.delivery.tasks import book_courier_task
from tests.catalog.factories import ProductFactory
from tests.delivery.test_courier_flow import dhaka_hub as dhaka_hub  # the fixture
from tests.delivery.test_courier_flow import handed_over, pathao_account, to_allied
from tests.fakes.pathao import FakePathao
from tests.fakes.pathao import fake_pathao as fake_pathao  # the fixture
from tests.fakes.steadfast import CREDENTIALS as STEADFAST
from tests.fakes.steadfast import FakeSteadfast
from tests.fakes.steadfast import fake_steadfast as fake_steadfast  # the fixture

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")
S = TrackingStatus
FAILED = "/ops/failed-deliveries/"


@pytest.fixture
def dispatcher(operator_org, member, client_for) -> Client:
    return client_for(member(operator_org, Role.DISPATCHER))


@pytest.fixture
def refused(partner_a, floor, stock_in, dhaka_hub, fake_pathao: FakePathao) -> DeliveryTask:
    """A Pathao stop whose booking Pathao refused: the phone is not a Bangladeshi number."""
    stock_in(ProductFactory(organization=partner_a, sku="KURTA"), 3)
    pathao_account(fake_pathao)
    order = handed_over(partner_a, "pathao", phone="+923001112233")
    task = courier_task_from_handover(order=order, actor=SYSTEM)
    assert task is not None
    return courier_task_book(task_id=task.pk)


def apply_webhooks() -> list[list[str]]:
    pending = CourierWebhook.objects.filter(status=CourierWebhookStatus.PENDING).order_by("id")
    return [courier_webhook_apply(webhook_id=webhook.pk) for webhook in pending]


def correct_phone(client: Client, task: DeliveryTask, phone: str = "+8801712345678") -> None:
    answer = client.post(
        FAILED,
        {
            "task": task.pk,
            "action": "contact",
            "line1": task.address_line1,
            "area": task.address_area,
            "city": task.address_city,
            "postcode": task.address_postcode,
            "phone": phone,
        },
    )
    assert answer.status_code == 302, answer.content.decode()


# A refused booking, booked again ------------------------------------------------------------------


def test_a_refused_booking_shows_why_in_the_queue_on_the_board_and_in_the_api(
    refused: DeliveryTask, dispatcher: Client, operator_org
) -> None:
    assert refused.consignment_id == ""
    assert "recipient_phone" in refused.courier_refusal or "phone" in refused.courier_refusal

    queue = dispatcher.get(FAILED).content.decode()
    assert "Refused by the courier (1)" in queue
    assert refused.tracking_code in queue
    assert "Book again" in queue
    board = dispatcher.get(f"/ops/dispatch/?hub={refused.hub.code}&date={refused.date:%Y-%m-%d}").content.decode()
    assert "Refused by the courier (1)" in board

    _, raw_key = api_key_create(organization=operator_org, name="d", scopes=["dispatch:manage"], actor=SYSTEM)
    api = Client(headers={"Authorization": f"Bearer {raw_key}"})
    seen = api.get(f"/api/v1/delivery-tasks/{refused.tracking_code}").json()
    assert (seen["courier"], seen["consignment_id"]) == ("pathao", "")
    assert seen["courier_refusal"] == refused.courier_refusal


def test_book_again_after_the_phone_is_corrected_books_exactly_once(
    refused: DeliveryTask, dispatcher: Client, fake_pathao: FakePathao, django_capture_on_commit_callbacks
) -> None:
    correct_phone(dispatcher, refused)

    with django_capture_on_commit_callbacks(execute=False) as queued:
        first = dispatcher.post(FAILED, {"task": refused.pk, "action": "book"})
        second = dispatcher.post(FAILED, {"task": refused.pk, "action": "book"})
    assert (first.status_code, second.status_code) == (302, 302)
    assert len(queued) == 1, "the second click queues no second booking"

    book_courier_task.call(refused.pk)
    book_courier_task.call(refused.pk)  # the queued booking run twice books once

    refused.refresh_from_db()
    assert refused.consignment_id
    assert refused.courier_refusal == ""
    assert refused.status == S.PICKUP_SCHEDULED
    assert len(fake_pathao.orders) == 1
    assert fake_pathao.orders[refused.consignment_id]["recipient_phone"] == "01712345678"
    assert "Refused by the courier" not in dispatcher.get(FAILED).content.decode()
    assert AuditEntry.objects.filter(action="delivery.courier_book_again").count() == 1


def test_book_again_without_a_correction_is_refused_again_and_shows_it(
    refused: DeliveryTask, dispatcher: Client, fake_pathao: FakePathao
) -> None:
    dispatcher.post(FAILED, {"task": refused.pk, "action": "book"})
    book_courier_task.call(refused.pk)

    refused.refresh_from_db()
    assert refused.consignment_id == ""
    assert refused.courier_refusal
    assert fake_pathao.orders == {}
    assert "Refused by the courier (1)" in dispatcher.get(FAILED).content.decode()


def test_book_again_through_the_api_and_for_a_stop_of_another_partner(
    refused: DeliveryTask, partner_a, partner_b, api_client_for, fake_pathao: FakePathao
) -> None:
    other = api_client_for(partner_b, ["delivery:read", "delivery:write"])
    assert (
        other.post(
            f"/api/v1/delivery-tasks/{refused.tracking_code}/book-again", {}, content_type="application/json"
        ).status_code
        == 404
    )
    refused.refresh_from_db()
    assert refused.courier_refusal

    own = api_client_for(partner_a, ["delivery:read", "delivery:write"])
    answer = own.post(f"/api/v1/delivery-tasks/{refused.tracking_code}/book-again", {}, content_type="application/json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["courier_refusal"] == ""
    again = own.post(f"/api/v1/delivery-tasks/{refused.tracking_code}/book-again", {}, content_type="application/json")
    assert again.status_code == 200
    assert AuditEntry.objects.filter(action="delivery.courier_book_again").count() == 1


def test_book_again_on_a_riders_stop_is_a_conflict(dispatcher: Client, partner_a) -> None:
    from tests.delivery.factories import HubFactory
    from tests.delivery.test_failed_deliveries import failed_stop

    HubFactory()
    task = failed_stop(partner_a)
    answer = dispatcher.post(FAILED, {"task": task.pk, "action": "book"}, follow=True)
    assert "is not a courier&#x27;s parcel" in answer.content.decode()


# Cash reported by the courier ----------------------------------------------------------------------


def booked_with_pathao(partner_a, stock_in, fake_pathao: FakePathao) -> DeliveryTask:
    stock_in(ProductFactory(organization=partner_a, sku="KURTA"), 3)
    pathao_account(fake_pathao)
    task = courier_task_from_handover(order=handed_over(partner_a, "pathao"), actor=SYSTEM)
    assert task is not None
    return courier_task_book(task_id=task.pk)


def test_pathaos_collected_amount_is_recorded_once_under_duplicate_webhooks(
    partner_a, floor, stock_in, dhaka_hub, fake_pathao: FakePathao, dispatcher: Client
) -> None:
    task = booked_with_pathao(partner_a, stock_in, fake_pathao)
    to_allied(fake_pathao, "pathao")
    delivered = fake_pathao.advance(task.consignment_id, "order.delivered", collected_amount=1250)
    assert delivered is not None
    fake_pathao.deliver(json.loads(delivered.body))  # Pathao sends it again

    outcomes = apply_webhooks()

    proof = Proof.objects.get(task=task)
    assert (proof.cod_collected, proof.source) == (Decimal("1250.00"), "pathao")
    assert outcomes[0][0].endswith("; Rs 1250 collected")
    assert "ignored" in outcomes[1][0]
    board = dispatcher.get(f"/ops/dispatch/?hub={task.hub.code}").content.decode()
    assert "reported differently" not in board


def test_a_steadfast_partial_delivery_is_flagged_on_the_board_and_in_the_api(
    partner_a, floor, stock_in, dhaka_hub, fake_steadfast: FakeSteadfast, dispatcher: Client, operator_org
) -> None:
    stock_in(ProductFactory(organization=partner_a, sku="KURTA"), 3)
    courier_account_create(code="steadfast", name="Steadfast", credentials=STEADFAST, actor=SYSTEM)
    task = courier_task_from_handover(order=handed_over(partner_a, "steadfast"), actor=SYSTEM)
    assert task is not None
    task = courier_task_book(task_id=task.pk)
    to_allied(fake_steadfast, "steadfast")
    fake_steadfast.advance(task.consignment_id, "partial_delivered", cod_amount=800)
    fake_steadfast.advance(task.consignment_id, "delivered", cod_amount=1250)  # a later, different report

    apply_webhooks()

    proof = Proof.objects.get(task=task)
    assert (proof.cod_collected, proof.source) == (Decimal("800.00"), "steadfast")
    audit = AuditEntry.objects.get(action="delivery.cod_mismatch")
    assert audit.changes == {"expected": "1250.00", "collected": "800"}
    board = dispatcher.get(f"/ops/dispatch/?hub={task.hub.code}").content.decode()
    assert "reported differently (1)" in board
    assert task.tracking_code in board

    _, raw_key = api_key_create(organization=operator_org, name="d", scopes=["dispatch:manage"], actor=SYSTEM)
    seen = Client(headers={"Authorization": f"Bearer {raw_key}"}).get(f"/api/v1/delivery-tasks/{task.tracking_code}")
    body = seen.json()
    assert (body["cod_collected"], body["cod_collected_by"], body["cod_mismatch"]) == ("800.00", "steadfast", True)


def test_a_delivery_without_an_amount_records_no_cash(
    partner_a, floor, stock_in, dhaka_hub, fake_pathao: FakePathao
) -> None:
    task = booked_with_pathao(partner_a, stock_in, fake_pathao)
    to_allied(fake_pathao, "pathao")
    fake_pathao.advance(task.consignment_id, "order.delivered")

    apply_webhooks()

    task.refresh_from_db()
    assert task.status == S.DELIVERED
    assert not Proof.objects.filter(task=task).exists()
