"""The failed-deliveries (NDR) queue in the console and the portal: what each failed stop shows,
each action checked with its errors on the form and nothing stored on bad input, a partner held to
its own stops, and the return to the sender after the third failed attempt."""

from datetime import timedelta

import pytest
from django.utils import timezone

from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.core.tracking import TrackingStatus
from allied.delivery.models import DeliveryTask, Route, TaskKind, TrackingEvent
from allied.delivery.services.failed import task_reattempt
from allied.delivery.services.tasks import PairInput, delivery_tasks_create
from allied.delivery.services.tracking import tracking_event_record
from tests.delivery.factories import HubFactory, RiderFactory
from tests.delivery.test_tasks_and_planning import stop
from tests.worker import run_until_quiet

pytestmark = pytest.mark.django_db
S = TrackingStatus
DISPATCH = Actor.system("dispatch")
OPS, PORTAL = "/ops/failed-deliveries/", "/portal/failed-deliveries/"


@pytest.fixture
def hub():
    return HubFactory()


@pytest.fixture
def dispatcher(operator_org, member, client_for):
    return client_for(member(operator_org, Role.DISPATCHER))


def fail(task: DeliveryTask, reason: str = "Recipient not home") -> DeliveryTask:
    rider = task.hub.riders.first() or RiderFactory(hub=task.hub)
    tracking_event_record(task=task, status=S.OUT_FOR_DELIVERY, actor=DISPATCH)
    tracking_event_record(
        task=task, status=S.ATTEMPT_FAILED, actor=Actor(user=rider.user, role=Role.RIDER), reason=reason
    )
    task.refresh_from_db()
    return task


def failed_stop(partner, n: int = 0, **changes) -> DeliveryTask:
    [task] = delivery_tasks_create(organization=partner, stops=[stop(n, **changes)], actor=DISPATCH)
    return fail(task)


def unchanged(task: DeliveryTask) -> bool:
    fresh = DeliveryTask.objects.get(pk=task.pk)
    same = [
        "status",
        "date",
        "route_id",
        "address_line1",
        "address_city",
        "address_lat",
        "address_lng",
        "contact_phone",
    ]
    return all(getattr(fresh, name) == getattr(task, name) for name in same)


def test_the_queue_shows_each_failed_stop_with_its_reason_attempts_and_last_event(
    dispatcher, partner_a, partner_b, hub
) -> None:
    mine, theirs = failed_stop(partner_a, 0), failed_stop(partner_b, 1)
    [waiting] = delivery_tasks_create(organization=partner_a, stops=[stop(2)], actor=DISPATCH)

    body = dispatcher.get(OPS).content.decode()

    assert mine.tracking_code in body
    assert theirs.tracking_code in body, "AES sees every partner's"
    assert waiting.tracking_code not in body, "only failed stops"
    assert "1 failed attempt<" in body
    assert "Recipient not home" in body
    assert hub.riders.get().user.email in body, "who recorded the last event"
    assert "Partner A" in body
    assert "Partner B" in body
    assert "Reattempt" in body
    assert "Return to sender" in body


def test_reattempt_on_a_day_reschedules_the_stop_and_takes_it_off_its_route(dispatcher, partner_a, hub) -> None:
    task = failed_stop(partner_a)
    route = Route.objects.create(
        hub=hub, rider=RiderFactory(hub=hub), date=task.date, starts_at=timezone.now(), ends_at=timezone.now()
    )
    DeliveryTask.objects.filter(pk=task.pk).update(route=route, sequence=1, planned_arrival=timezone.now())
    tomorrow = timezone.localdate() + timedelta(days=1)

    response = dispatcher.post(OPS, {"task": task.pk, "action": "reattempt", "date": tomorrow.isoformat()}, follow=True)

    task.refresh_from_db()
    assert (task.status, task.date, task.route_id, task.sequence, task.planned_arrival) == (
        S.RESCHEDULED,
        tomorrow,
        None,
        None,
        None,
    )
    assert task.events.order_by("-pk").first().status == S.RESCHEDULED
    assert f"{task.tracking_code} will be tried again on" in response.content.decode()


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("", "This field is required."),
        ("not a day", "Enter a valid date."),
        ((timezone.localdate() - timedelta(days=1)).isoformat(), "The day has passed."),
        ((timezone.localdate() + timedelta(days=45)).isoformat(), "Within 30 days"),
    ],
)
def test_a_bad_reattempt_day_is_a_form_error_and_nothing_is_stored(dispatcher, partner_a, hub, day, message) -> None:
    task = failed_stop(partner_a)
    events = TrackingEvent.objects.count()

    response = dispatcher.post(OPS, {"task": task.pk, "action": "reattempt", "date": day})

    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert 'aria-invalid="true"' in body
    assert unchanged(task)
    assert TrackingEvent.objects.count() == events


def test_a_new_address_clears_the_coordinates_and_a_phone_is_stored_in_e164(dispatcher, partner_a, hub) -> None:
    task = failed_stop(partner_a)
    assert task.address_lat is not None

    dispatcher.post(
        OPS,
        {
            "task": task.pk,
            "action": "contact",
            "line1": "Flat 7, Block B, Gulshan Heights",
            "area": "PECHS",
            "city": "Karachi",
            "phone": "0321 4445566",
        },
    )

    task.refresh_from_db()
    assert task.address_line1 == "Flat 7, Block B, Gulshan Heights"
    assert (task.address_lat, task.address_lng, task.address_coordinates_source) == (None, None, "")
    assert task.unplanned_reason == "No coordinates: place a pin."
    assert task.contact_phone == "+923214445566"
    assert task.status == S.ATTEMPT_FAILED


def test_a_new_phone_alone_keeps_the_coordinates(dispatcher, partner_a, hub) -> None:
    task = failed_stop(partner_a)
    values = {"line1": task.address_line1, "area": task.address_area, "city": task.address_city}

    dispatcher.post(OPS, {"task": task.pk, "action": "contact", "phone": "+92 321 4445566"} | values)

    task.refresh_from_db()
    assert task.contact_phone == "+923214445566"
    assert task.address_lat == stop(0).address.lat


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "12"}, "is not a valid phone number"),
        ({"line1": ""}, "This field is required."),
        ({"city": "Lahore", "area": "Gulberg"}, "Outside the areas hub KHI-H1 serves."),
    ],
)
def test_a_bad_correction_is_a_form_error_and_nothing_is_stored(dispatcher, partner_a, hub, changes, message) -> None:
    task = failed_stop(partner_a)
    values = {"line1": "House 9", "area": "PECHS", "city": "Karachi", "phone": "0321 4445566"} | changes

    response = dispatcher.post(OPS, {"task": task.pk, "action": "contact"} | values)

    body = response.content.decode()
    assert response.status_code == 200
    assert message in body
    assert "<details open>" in body, "the correction form stays open on its errors"
    assert unchanged(task)


def test_return_to_origin_sends_the_stop_back(dispatcher, partner_a, hub) -> None:
    task = failed_stop(partner_a)

    response = dispatcher.post(OPS, {"task": task.pk, "action": "return", "reason": "Refused twice"}, follow=True)

    task.refresh_from_db()
    assert task.status == S.RETURN_TO_ORIGIN
    assert task.events.order_by("-pk").first().reason == "Refused twice"
    assert f"{task.tracking_code} goes back to its sender." in response.content.decode()
    assert task.tracking_code not in dispatcher.get(OPS).content.decode()


def test_an_action_on_a_stop_no_longer_failed_says_why(dispatcher, partner_a, hub) -> None:
    task = failed_stop(partner_a)
    tracking_event_record(task=task, status=S.RETURN_TO_ORIGIN, actor=DISPATCH)

    response = dispatcher.post(
        OPS, {"task": task.pk, "action": "reattempt", "date": timezone.localdate().isoformat()}, follow=True
    )

    assert "only a failed stop is tried again" in response.content.decode()
    assert DeliveryTask.objects.get(pk=task.pk).status == S.RETURN_TO_ORIGIN


def test_a_partner_sees_and_acts_on_only_its_own_failed_stops(partner_a, partner_b, member, client_for, hub) -> None:
    mine, theirs = failed_stop(partner_a, 0), failed_stop(partner_b, 1)
    owner = client_for(member(partner_a, Role.OWNER))

    body = owner.get(PORTAL).content.decode()
    assert mine.tracking_code in body
    assert theirs.tracking_code not in body
    assert "Partner B" not in body

    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert owner.post(PORTAL, {"task": theirs.pk, "action": "reattempt", "date": tomorrow}).status_code == 404
    assert owner.post(PORTAL, {"task": theirs.pk, "action": "return"}).status_code == 404
    assert unchanged(theirs)
    owner.post(PORTAL, {"task": mine.pk, "action": "reattempt", "date": tomorrow})
    assert DeliveryTask.objects.get(pk=mine.pk).status == S.RESCHEDULED


def test_who_may_see_and_act(partner_a, operator_org, member, client_for, hub) -> None:
    task = failed_stop(partner_a)
    viewer = client_for(member(partner_a, Role.VIEWER))
    support = client_for(member(operator_org, Role.SUPPORT))

    assert viewer.get(PORTAL).status_code == 403
    support_page = support.get(OPS)
    assert support_page.status_code == 200
    assert task.tracking_code in support_page.content.decode()
    assert "Return to sender" not in support_page.content.decode(), "support sees, dispatch acts"
    assert support.post(OPS, {"task": task.pk, "action": "return"}).status_code == 403
    assert unchanged(task)


# The outbox relay runs the consumer as the worker would (its transactions are real ones).
@pytest.mark.django_db(transaction=True)
def test_the_third_failed_attempt_sends_the_stop_back_by_itself(partner_a, hub) -> None:
    [task] = delivery_tasks_create(organization=partner_a, stops=[stop(0)], actor=DISPATCH)

    for attempt in (1, 2):
        fail(task)
        run_until_quiet()
        task.refresh_from_db()
        assert (task.status, task.attempts) == (S.ATTEMPT_FAILED, attempt), "tried again until the third"
    fail(task)
    run_until_quiet()

    task.refresh_from_db()
    assert (task.status, task.attempts) == (S.RETURN_TO_ORIGIN, 3)
    last = task.events.order_by("-pk").first()
    assert (last.status, last.reason, last.actor_label) == (S.RETURN_TO_ORIGIN, "3 failed delivery attempts.", "system")


@pytest.mark.django_db(transaction=True)
def test_a_stop_rescheduled_before_the_relay_runs_is_left_alone(partner_a, hub, settings) -> None:
    settings.ALLIED_MAX_DELIVERY_ATTEMPTS = 1
    [task] = delivery_tasks_create(organization=partner_a, stops=[stop(0)], actor=DISPATCH)
    fail(task)
    tracking_event_record(task=task, status=S.RESCHEDULED, actor=DISPATCH)

    run_until_quiet()

    assert DeliveryTask.objects.get(pk=task.pk).status == S.RESCHEDULED


def test_a_failed_pickup_of_a_paired_job_takes_its_drop_off_to_the_new_day(partner_a, hub) -> None:
    pickup, drop_off = delivery_tasks_create(
        organization=partner_a,
        stops=[PairInput(pickup=stop(0, kind=TaskKind.PICKUP), drop_off=stop(1))],
        actor=DISPATCH,
    )
    tracking_event_record(task=pickup, status=S.ATTEMPT_FAILED, actor=DISPATCH, reason="Shop closed")
    tomorrow = timezone.localdate() + timedelta(days=1)

    task_reattempt(task=pickup, day=tomorrow, actor=DISPATCH)

    drop_off.refresh_from_db()
    assert (drop_off.date, drop_off.route_id, drop_off.status) == (tomorrow, None, S.PICKUP_SCHEDULED)
    assert DeliveryTask.objects.get(pk=pickup.pk).date == tomorrow
