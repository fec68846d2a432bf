"""The public tracking page and what a recipient may change behind a one-time code: the page shows
the journey and never the person, answers unknown and malformed codes alike, is rate-limited,
and every change checks everything before it writes."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.core.address import Address
from allied.core.errors import Conflict, ValidationFailed
from allied.core.models import AuditEntry
from allied.core.tracking import TrackingStatus
from allied.delivery.models import DeliveryCode, DeliveryTask, RecipientOptOut, TaskKind, TrackingEvent
from allied.delivery.services.recipient import (
    CODE_TRIES,
    CodeCheck,
    recipient_address_correct,
    recipient_code_check,
    recipient_code_send,
    recipient_reschedule,
    reschedule_days,
)
from allied.delivery.services.tasks import TaskInput, delivery_tasks_create
from allied.delivery.services.tracking import tracking_event_record
from allied.orders.services.intake import order_create
from allied.orders.tracking import tracking_code_generate
from tests.catalog.factories import ProductFactory
from tests.delivery.factories import HubFactory
from tests.domain import refused
from tests.inventory.factories import WarehouseFactory
from tests.orders.factories import order_input

pytestmark = pytest.mark.django_db

NAME = "Zarghuna Qizilbash"
PHONE_TYPED, PHONE = "0300 7654321", "+923007654321"
STREET, STREET_2 = "House 77-Q, Xylophone Lane", "Flat Zeta-9"
RIDER_NAME, RIDER_EMAIL = "Quentin Boatswain", "quentin.boatswain@aes.example"


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    cache.clear()


@pytest.fixture
def task(partner_a) -> DeliveryTask:
    HubFactory()
    [stop] = delivery_tasks_create(
        organization=partner_a,
        stops=[
            TaskInput(
                kind=TaskKind.DROP_OFF,
                hub_code="KHI-H1",
                date=timezone.localdate(),
                address=Address.given(
                    line1=STREET,
                    line2=STREET_2,
                    area="PECHS",
                    city="Karachi",
                    postcode="75400",
                    lat=Decimal("24.873000"),
                    lng=Decimal("67.060000"),
                ),
                contact_name=NAME,
                contact_phone=PHONE_TYPED,
                instructions="Call at the gate",
            )
        ],
        actor=Actor.system("dispatch"),
    )
    return stop


def ride(task: DeliveryTask, *statuses: str, actor: Actor | None = None) -> DeliveryTask:
    for status in statuses:
        tracking_event_record(task=task, status=status, actor=actor or Actor.system("dispatch"))
    task.refresh_from_db()
    return task


@pytest.fixture
def rider(operator_org, member) -> Actor:
    membership = member(operator_org, Role.RIDER, full_name=RIDER_NAME, email=RIDER_EMAIL)
    return Actor(user=membership.user, organization=operator_org, role=Role.RIDER)


# The page -----------------------------------------------------------------------------------------


def test_the_page_shows_the_journey_and_never_the_person(task, rider) -> None:
    ride(task, TrackingStatus.OUT_FOR_DELIVERY, actor=rider)
    DeliveryTask.objects.filter(pk=task.pk).update(planned_arrival=timezone.now() + timedelta(hours=2))

    response = Client().get(f"/track/{task.tracking_code}")
    html = response.content.decode()

    assert response.status_code == 200
    assert "Out for delivery" in html
    assert "At our local hub" in html
    assert "Karachi Central Hub" in html  # the place of the first step: the hub
    assert "Expected" in html
    assert " between " in html
    for secret in (NAME, "Zarghuna", "Qizilbash", PHONE, "7654321", STREET, "Xylophone", STREET_2, "75400"):
        assert secret not in html, f"the page shows {secret!r}"
    for secret in (RIDER_NAME, "Quentin", "Boatswain", RIDER_EMAIL):
        assert secret not in html, f"the page shows the rider: {secret!r}"


def test_the_page_is_cacheable_for_30_seconds_and_sets_no_cookie(task) -> None:
    response = Client().get(f"/track/{task.tracking_code}")

    assert response["Cache-Control"] == "private, max-age=30"
    assert not response.cookies, "no session and no CSRF cookie"
    assert "csrfmiddlewaretoken" not in response.content.decode()


def test_the_page_takes_one_query_once_rendered_and_writes_nothing(task, django_assert_num_queries) -> None:
    client = Client()
    first = client.get(f"/track/{task.tracking_code}")  # rendered, and the lookup limit's window open

    with django_assert_num_queries(1):  # the stop's state: what the page shows, its newest event
        again = client.get(f"/track/{task.tracking_code}")

    assert again.status_code == 200
    assert _without_nonce(again.content) == _without_nonce(first.content)


def test_the_page_follows_every_change_of_what_it_shows(task) -> None:
    client = Client()
    assert "At our local hub" in client.get(f"/track/{task.tracking_code}").content.decode()

    ride(task, TrackingStatus.OUT_FOR_DELIVERY)
    html = client.get(f"/track/{task.tracking_code}").content.decode()
    assert "Out for delivery" in html
    assert "Expected <strong>today</strong>" in html, "no route yet: the day, not a window"

    # Planning writes the arrival without saving the stop (no updated_at): the page still follows.
    # Noon, so the window lies within today whatever the hour the test runs.
    noon_today = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    DeliveryTask.objects.filter(pk=task.pk).update(planned_arrival=noon_today)
    html = client.get(f"/track/{task.tracking_code}").content.decode()
    assert "Expected <strong>today between 11:30 and 12:30" in html

    task.organization.name = "Renamed Brand Ltd"
    task.organization.save(update_fields=["name"])
    assert "Renamed Brand Ltd" in client.get(f"/track/{task.tracking_code}").content.decode()

    # An event of the same status changes only the journey.
    tracking_event_record(task=task, status=TrackingStatus.OUT_FOR_DELIVERY, actor=Actor.system("x"), place="Gulberg")
    assert "Gulberg" in client.get(f"/track/{task.tracking_code}").content.decode()

    DeliveryTask.objects.filter(pk=task.pk).update(address_city="Hyderabad")
    assert "Hyderabad" in client.get(f"/track/{task.tracking_code}").content.decode()


def test_a_visitors_waiting_messages_stay_theirs(task, client_for, member, partner_a) -> None:
    leaving = client_for(member(partner_a, Role.OWNER))
    leaving.post("/accounts/logout/")  # "You have signed out." waits for their next page

    theirs = leaving.get(f"/track/{task.tracking_code}").content.decode()
    anyone = Client().get(f"/track/{task.tracking_code}").content.decode()

    assert "signed out" not in anyone
    assert "signed out" not in theirs, "left waiting for their next console page"
    assert "signed out" in leaving.get("/accounts/login/").content.decode()


def test_a_signed_in_operators_page_is_their_own_and_never_shared(task, client_for, member, partner_a) -> None:
    operator = client_for(member(partner_a, Role.OWNER))
    theirs = operator.get(f"/track/{task.tracking_code}").content.decode()
    anonymous = Client().get(f"/track/{task.tracking_code}").content.decode()

    assert "Sign out" in theirs
    assert "Sign out" not in anonymous
    assert "Sign in" in anonymous


def _without_nonce(content: bytes) -> bytes:
    return re.sub(rb'nonce="[^"]*"', b'nonce=""', content)


def test_a_code_typed_in_another_case_and_spacing_finds_the_parcel(task) -> None:
    typed = task.tracking_code.lower().replace("-", " ")

    response = Client().get("/track/", {"code": typed})

    assert response.status_code == 302
    assert response["Location"] == f"/track/{task.tracking_code}"


def test_unknown_and_malformed_codes_get_byte_identical_answers(task) -> None:
    client = Client()
    unknown = tracking_code_generate()
    wrong_check = task.tracking_code[:-1] + ("X" if task.tracking_code[-1] != "X" else "Y")

    answers = [client.get(f"/track/{code}") for code in (unknown, "hello", wrong_check, "AES-1234")]

    assert {answer.status_code for answer in answers} == {404}
    # Byte for byte but the CSP nonce, which every page draws afresh.
    assert len({re.sub(rb'nonce="[^"]*"', b'nonce=""', answer.content) for answer in answers}) == 1
    assert {answer["Cache-Control"] for answer in answers} == {"private, max-age=30"}
    assert "csrfmiddlewaretoken" not in answers[0].content.decode()


def test_the_31st_lookup_in_the_window_is_answered_429(task) -> None:
    client = Client()
    for n in range(30):
        code = task.tracking_code if n % 2 else tracking_code_generate()
        assert client.get(f"/track/{code}").status_code in {200, 404}

    response = client.get(f"/track/{task.tracking_code}")

    assert response.status_code == 429
    assert "Please wait" in response.content.decode()
    assert response["Retry-After"] == "600"


def test_another_address_is_not_limited_by_a_busy_one(task) -> None:
    busy, other = Client(REMOTE_ADDR="203.0.113.7"), Client(REMOTE_ADDR="203.0.113.8")
    for _ in range(31):
        busy.get(f"/track/{task.tracking_code}")

    assert other.get(f"/track/{task.tracking_code}").status_code == 200


# One-time codes ------------------------------------------------------------------------------------


def send_code(task: DeliveryTask, django_capture_on_commit_callbacks) -> str:
    with django_capture_on_commit_callbacks() as callbacks:
        recipient_code_send(task=task)
    return next(c.keywords["code"] for c in callbacks if "code" in getattr(c, "keywords", {}))


def test_recipient_code_send_stores_only_a_hash(task, django_capture_on_commit_callbacks) -> None:
    code = send_code(task, django_capture_on_commit_callbacks)

    stored = DeliveryCode.objects.get(task=task)
    assert re.fullmatch(r"\d{6}", code)
    assert code not in stored.code_hash
    assert stored.expires_at - stored.sent_at == timedelta(minutes=15)


def test_recipient_code_check_wrong_code_counts_tries(task, django_capture_on_commit_callbacks) -> None:
    code = send_code(task, django_capture_on_commit_callbacks)
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    results = [recipient_code_check(task=task, code=wrong) for _ in range(CODE_TRIES)]

    assert [r.outcome for r in results] == [CodeCheck.WRONG] * (CODE_TRIES - 1) + [CodeCheck.EXHAUSTED]
    assert DeliveryCode.objects.get(task=task).tries == CODE_TRIES
    assert recipient_code_check(task=task, code=code).outcome == CodeCheck.EXHAUSTED, "even the right one, now"


def test_recipient_code_check_expired_code_refused(task, django_capture_on_commit_callbacks) -> None:
    code = send_code(task, django_capture_on_commit_callbacks)

    later = timezone.now() + timedelta(minutes=15, seconds=1)

    assert recipient_code_check(task=task, code=code, now=later).outcome == CodeCheck.EXPIRED


def test_recipient_code_check_a_right_code_works_once(task, django_capture_on_commit_callbacks) -> None:
    code = send_code(task, django_capture_on_commit_callbacks)

    assert recipient_code_check(task=task, code=code).outcome == CodeCheck.OK
    assert recipient_code_check(task=task, code=code).outcome == CodeCheck.EXPIRED


def test_recipient_code_send_retires_earlier_codes_and_is_limited(task, django_capture_on_commit_callbacks) -> None:
    first = send_code(task, django_capture_on_commit_callbacks)
    send_code(task, django_capture_on_commit_callbacks)
    send_code(task, django_capture_on_commit_callbacks)

    assert recipient_code_check(task=task, code=first).outcome != CodeCheck.OK
    assert isinstance(refused(lambda: recipient_code_send(task=task)), Conflict)


# Changes -------------------------------------------------------------------------------------------


def test_recipient_reschedule_moves_the_stop_and_records_rescheduled(task) -> None:
    ride(task, TrackingStatus.OUT_FOR_DELIVERY, TrackingStatus.ATTEMPT_FAILED)
    day = reschedule_days(task)[1]

    recipient_reschedule(task=task, day=day)

    task.refresh_from_db()
    assert (task.date, task.status, task.route_id, task.planned_arrival) == (
        day,
        TrackingStatus.RESCHEDULED,
        None,
        None,
    )
    last = TrackingEvent.objects.filter(task=task).last()
    assert last.status == TrackingStatus.RESCHEDULED
    assert last.source == "recipient"
    assert AuditEntry.objects.filter(action="delivery.recipient_rescheduled", object_id=str(task.pk)).exists()


def test_recipient_reschedule_refuses_a_day_beyond_the_week(task) -> None:
    ride(task, TrackingStatus.OUT_FOR_DELIVERY, TrackingStatus.ATTEMPT_FAILED)

    error = refused(lambda: recipient_reschedule(task=task, day=timezone.localdate() + timedelta(days=8)))

    assert isinstance(error, ValidationFailed)

    task.refresh_from_db()
    assert task.status == TrackingStatus.ATTEMPT_FAILED, "nothing half-written"


def test_reschedule_days_skip_the_days_hubs_are_closed(task, settings) -> None:
    settings.ALLIED_HUB_CLOSED_WEEKDAYS = [5]  # Friday

    days = reschedule_days(task)

    assert days
    assert all(day.isoweekday() != 5 for day in days)
    assert max(days) <= timezone.localdate() + timedelta(days=7)


def test_recipient_address_correct_stores_it_and_clears_the_coordinates(task) -> None:
    recipient_address_correct(task=task, line1="House 5, Street 9", area="Clifton", postcode="75600")

    task.refresh_from_db()
    assert (task.address_line1, task.address_line2, task.address_area, task.address_postcode) == (
        "House 5, Street 9",
        "",
        "Clifton",
        "75600",
    )
    assert (task.address_lat, task.address_lng, task.address_coordinates_source) == (None, None, "")
    assert "place a pin" in task.unplanned_reason


def test_recipient_address_correct_checks_every_field_first(task) -> None:
    error = refused(lambda: recipient_address_correct(task=task, line1=" ", area="x" * 101, postcode="75$00"))

    assert {field_error.field for field_error in error.errors} == {"line1", "area", "postcode"}
    task.refresh_from_db()
    assert task.address_line1 == STREET
    assert task.address_lat is not None


def test_no_change_once_delivered(task) -> None:
    ride(task, TrackingStatus.OUT_FOR_DELIVERY, TrackingStatus.DELIVERED)

    assert isinstance(
        refused(lambda: recipient_address_correct(task=task, line1="Elsewhere 1", area="", postcode="")), Conflict
    )
    assert isinstance(refused(lambda: recipient_code_send(task=task)), Conflict)


# Through the page ----------------------------------------------------------------------------------


def test_the_change_flow_through_the_page(task, django_capture_on_commit_callbacks, caplog) -> None:
    ride(task, TrackingStatus.OUT_FOR_DELIVERY, TrackingStatus.ATTEMPT_FAILED)
    client = Client()
    url = f"/track/{task.tracking_code}/change"
    caplog.set_level("INFO", logger="allied.sms")

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(url, {"action": "send"})
    code = re.search(r"SMS to …4321: (\d{6}) is your code", caplog.text).group(1)
    wrong = client.post(url, {"action": "verify", "code": f"{(int(code) + 1) % 10**6:06d}"})
    right = client.post(url, {"action": "verify", "code": code})
    grant = re.search(r'name="grant" value="([^"]+)"', right.content.decode()).group(1)
    day = reschedule_days(task)[0]
    moved = client.post(url, {"action": "reschedule", "grant": grant, "reschedule-day": day.isoformat()})
    too_long = client.post(url, {"action": "instructions", "grant": grant, "instructions-instructions": "x" * 301})
    forged = client.post(url, {"action": "address", "grant": grant + "x", "address-line1": "Elsewhere 1"})

    assert "We sent a code" in sent.content.decode()
    assert "4 tries left" in wrong.content.decode()
    assert "Another day" in right.content.decode()
    assert "Done: your parcel will come on the day you chose." in moved.content.decode()
    assert "at most 300 characters" in too_long.content.decode()
    assert "no longer valid" in forged.content.decode()
    task.refresh_from_db()
    assert (task.date, task.status, task.instructions) == (day, TrackingStatus.RESCHEDULED, "Call at the gate")
    assert task.address_line1 == STREET
    for page in (sent, wrong, right, moved):
        assert PHONE not in page.content.decode()
        assert NAME not in page.content.decode()
        assert page["Cache-Control"] == "private, no-store"


def test_the_opt_out_link_records_the_phone(task) -> None:
    response = Client().post(f"/track/{task.tracking_code}/stop")

    assert response.status_code == 200
    assert RecipientOptOut.objects.filter(phone=PHONE, source="link").exists()


# The order page ------------------------------------------------------------------------------------


def test_the_order_page_shows_the_delivery_timeline_and_who_to_aes_only(
    partner_a, operator_org, member, client_for, rider
) -> None:
    product = ProductFactory(organization=partner_a, sku="TL-TEE")
    owner = member(partner_a, Role.OWNER)
    order = order_create(
        organization=partner_a,
        actor=Actor.system("tests"),
        warehouse=WarehouseFactory(),
        data=order_input((product.sku, 1)),
    ).order
    stop = DeliveryTask.objects.create(
        organization=partner_a,
        hub=HubFactory(),
        kind=TaskKind.DROP_OFF,
        order=order,
        tracking_code=tracking_code_generate(),
        date=timezone.localdate(),
        contact_name=NAME,
        contact_phone=PHONE,
        status=TrackingStatus.AT_HUB,
        **Address(line1=STREET, city="Karachi", area="PECHS").columns(),
    )
    tracking_event_record(task=stop, status=TrackingStatus.OUT_FOR_DELIVERY, actor=rider)

    portal = client_for(owner).get(f"/portal/orders/{order.pk}/").content.decode()
    ops = client_for(member(operator_org, Role.DISPATCHER)).get(f"/ops/orders/{order.pk}/").content.decode()

    assert "Out for delivery" in portal
    assert "Out for delivery" in ops
    assert RIDER_EMAIL in ops
    assert RIDER_EMAIL not in portal
