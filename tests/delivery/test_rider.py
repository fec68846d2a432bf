"""The rider's day through its services and its doors: deliver with each proof level and exactly
the cash on delivery, fail with a reason, collect a pickup, hand back at the hub; the same action
id sent twice is applied once, and a rider cannot act on another rider's stop."""

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from allied.accounts.models import Membership
from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.core.address import Address
from allied.core.errors import Conflict, PermissionDenied, ValidationFailed
from allied.core.tracking import TrackingStatus
from allied.delivery.models import (
    DeliveryCode,
    DeliveryTask,
    FailureReason,
    HandBack,
    Proof,
    Rider,
    Route,
    RouteStatus,
    TaskKind,
    TrackingEvent,
)
from allied.delivery.services.rider import (
    ProofInput,
    rider_delivery_code_send,
    rider_handback,
    rider_pickup_scan,
    rider_run_start,
    rider_stop_deliver,
    rider_stop_fail,
)
from allied.delivery.services.tasks import PairInput, TaskInput, delivery_tasks_create
from tests.delivery.factories import HubFactory, RiderFactory
from tests.domain import refused

pytestmark = pytest.mark.django_db
S = TrackingStatus
DISPATCH = Actor.system("dispatch")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SIGNATURE = "M10 10 L40 40 L80 20"
SPOTS = [
    (Decimal("24.873000"), Decimal("67.060000")),
    (Decimal("24.880500"), Decimal("67.081000")),
    (Decimal("24.850000"), Decimal("67.050000")),
    (Decimal("24.866000"), Decimal("67.095000")),
]


def stop_input(n: int, cod: str = "0", **changes: Any) -> TaskInput:
    lat, lng = SPOTS[n % len(SPOTS)]
    values: dict[str, Any] = {
        "kind": TaskKind.DROP_OFF,
        "hub_code": "KHI-H1",
        "date": timezone.localdate(),
        "address": Address.given(
            line1=f"House {n + 1}, Street 4",
            city="Karachi",
            area=["PECHS", "Bahadurabad", "Saddar", "Clifton"][n % 4],
            lat=lat,
            lng=lng,
        ),
        "contact_name": f"Hina Baig {n}",
        "contact_phone": "0300 1112233",
        "cod_amount": Decimal(cod),
    }
    return TaskInput(**(values | changes))


@dataclass
class RiderDay:
    rider: Rider
    actor: Actor
    membership: Membership
    route: Route
    stops: list[DeliveryTask]


def rider_day(organization: Any, stops: list[TaskInput | PairInput], *, start: bool = True) -> RiderDay:
    """A rider with a published route of these stops in this order, started unless told not to."""
    hub = HubFactory()
    rider = RiderFactory(hub=hub)
    membership = Membership.objects.get(user=rider.user)
    actor = Actor(user=rider.user, organization=membership.organization, role=Role.RIDER)
    tasks = delivery_tasks_create(organization=organization, stops=stops, actor=DISPATCH)
    now = timezone.now()
    route = Route.objects.create(
        hub=hub,
        rider=rider,
        date=timezone.localdate(),
        status=RouteStatus.PUBLISHED,
        starts_at=now,
        ends_at=now + timedelta(hours=6),
        published_at=now,
    )
    for sequence, task in enumerate(tasks, start=1):
        DeliveryTask.objects.filter(pk=task.pk).update(
            route=route, sequence=sequence, planned_arrival=now + timedelta(minutes=20 * sequence)
        )
    if start:
        rider_run_start(route=route, actor=actor)
    return RiderDay(rider, actor, membership, route, [DeliveryTask.objects.get(pk=t.pk) for t in tasks])


def deliver(day: RiderDay, index: int = 0, action: uuid.UUID | None = None, **proof: Any) -> TrackingEvent:
    return rider_stop_deliver(
        task=day.stops[index],
        proof=ProofInput(**({"recipient_name": "Hina"} | proof)),
        client_action_id=action or uuid.uuid4(),
        actor=day.actor,
    )


def fields_of(error: Any) -> list[str]:
    return [e.field for e in error.errors]


@pytest.fixture
def day(partner_a: Any) -> RiderDay:
    return rider_day(partner_a, [stop_input(0, cod="1500.00"), stop_input(1), stop_input(2)])


def test_rider_run_start_sends_the_drop_offs_out_for_delivery(day: RiderDay) -> None:
    assert [stop.status for stop in day.stops] == [S.OUT_FOR_DELIVERY] * 3


def test_rider_stop_deliver_with_a_name_stores_the_proof_the_cash_and_one_event(day: RiderDay) -> None:
    event = deliver(day, cod_collected=Decimal("1500.00"))

    proof = Proof.objects.get(task=day.stops[0])
    assert (event.status, event.source, event.actor_id) == (S.DELIVERED, "rider_app", day.rider.user_id)
    assert (proof.recipient_name, proof.cod_collected, proof.code_verified) == ("Hina", Decimal("1500.00"), False)
    assert DeliveryTask.objects.get(pk=day.stops[0].pk).status == S.DELIVERED


def test_rider_stop_deliver_without_a_name_is_refused_by_default(day: RiderDay) -> None:
    error = refused(lambda: deliver(day, 1, recipient_name=" "))

    assert isinstance(error, ValidationFailed)
    assert fields_of(error) == ["recipient_name"]
    assert not Proof.objects.exists()


@pytest.mark.parametrize(
    ("level", "missing", "given"),
    [
        ("signature", "signature_svg", {"signature_svg": SIGNATURE}),
        ("photo", "photo", {"photo": PNG}),
    ],
)
def test_rider_stop_deliver_asks_for_the_partners_proof_level(
    day: RiderDay, settings: Any, level: str, missing: str, given: dict[str, Any]
) -> None:
    settings.ALLIED_PROOF_LEVELS = {"partner-a": level}

    error = refused(lambda: deliver(day, 1))
    deliver(day, 1, **given)

    assert missing in fields_of(error)
    proof = Proof.objects.get(task=day.stops[1])
    assert proof.signature_svg == given.get("signature_svg", "")
    assert bool(proof.photo) == ("photo" in given)
    if "photo" in given:
        assert proof.photo.read() == PNG


def test_rider_stop_deliver_refuses_a_signature_that_is_not_path_data(day: RiderDay, settings: Any) -> None:
    settings.ALLIED_PROOF_LEVELS = {"partner-a": "signature"}

    error = refused(lambda: deliver(day, 1, signature_svg='M0 0 L1 1"/><script>alert(1)</script>'))

    assert fields_of(error) == ["signature_svg"]


def test_rider_stop_deliver_with_a_code_checks_the_code_sent_to_the_recipient(
    day: RiderDay, settings: Any, caplog: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ALLIED_PROOF_LEVELS = {"partner-a": "code"}
    caplog.set_level(logging.INFO, logger="allied.delivery.services.rider")
    with django_capture_on_commit_callbacks(execute=True):
        record = rider_delivery_code_send(task=day.stops[1], actor=day.actor)
    text = next(r.text for r in caplog.records if getattr(r, "text", ""))  # type: ignore[attr-defined]
    code = text.split("code ")[1][:6]

    wrong = refused(lambda: deliver(day, 1, code=f"{(int(code) + 1) % 1_000_000:06d}"))
    deliver(day, 1, code=code)

    assert code.isdigit()
    assert code not in record.code_hash
    assert fields_of(wrong) == ["code"]
    assert Proof.objects.get(task=day.stops[1]).code_verified
    assert DeliveryCode.objects.get(pk=record.pk).used_at is not None


def test_rider_delivery_code_send_refuses_a_second_code_within_a_minute(day: RiderDay) -> None:
    rider_delivery_code_send(task=day.stops[1], actor=day.actor)

    assert isinstance(refused(lambda: rider_delivery_code_send(task=day.stops[1], actor=day.actor)), Conflict)
    assert DeliveryCode.objects.count() == 1


def test_rider_stop_deliver_refuses_cash_that_is_not_the_cod_amount(day: RiderDay) -> None:
    short = refused(lambda: deliver(day, 0, cod_collected=Decimal("1000")))
    missing = refused(lambda: deliver(day, 0))
    prepaid = refused(lambda: deliver(day, 1, cod_collected=Decimal("50")))

    assert short.errors[0].message == "Collect exactly Rs 1,500.00: you entered Rs 1,000.00."
    assert fields_of(missing) == ["cod_collected"]
    assert fields_of(prepaid) == ["cod_collected"]
    assert not TrackingEvent.objects.filter(status=S.DELIVERED).exists()


def test_the_same_client_action_id_twice_is_one_event_and_one_proof(day: RiderDay) -> None:
    action = uuid.uuid4()

    first = deliver(day, 0, action, cod_collected=Decimal("1500"))
    again = deliver(day, 0, action, cod_collected=Decimal("1500"))

    assert first.pk == again.pk
    assert TrackingEvent.objects.filter(task=day.stops[0], status=S.DELIVERED).count() == 1
    assert Proof.objects.filter(task=day.stops[0]).count() == 1


def test_a_second_delivery_with_a_new_action_id_is_refused(day: RiderDay) -> None:
    deliver(day, 1)

    assert isinstance(refused(lambda: deliver(day, 1)), Conflict)


def test_an_action_id_of_another_stop_is_refused(day: RiderDay) -> None:
    action = uuid.uuid4()
    deliver(day, 1, action)

    assert isinstance(refused(lambda: deliver(day, 2, action)), Conflict)


def test_another_rider_cannot_act_on_the_stop(day: RiderDay, partner_a: Any) -> None:
    other = rider_day(partner_a, [stop_input(3)])

    error = refused(
        lambda: rider_stop_fail(
            task=day.stops[0], reason=FailureReason.NOT_HOME, client_action_id=uuid.uuid4(), actor=other.actor
        )
    )

    taken = refused(
        lambda: rider_stop_deliver(
            task=day.stops[1], proof=ProofInput(recipient_name="Me"), client_action_id=uuid.uuid4(), actor=other.actor
        )
    )

    assert isinstance(error, PermissionDenied)
    assert isinstance(taken, PermissionDenied)
    assert DeliveryTask.objects.get(pk=day.stops[0].pk).status == S.OUT_FOR_DELIVERY


def test_a_partner_cannot_act_on_a_stop(day: RiderDay, partner_a: Any, member: Any) -> None:
    owner = member(partner_a, Role.OWNER)
    as_owner = Actor(user=owner.user, organization=partner_a, role=Role.OWNER)

    error = refused(
        lambda: rider_stop_fail(
            task=day.stops[0], reason=FailureReason.NOT_HOME, client_action_id=uuid.uuid4(), actor=as_owner
        )
    )

    assert isinstance(error, PermissionDenied)


def test_rider_stop_fail_records_the_reason_and_counts_the_attempt(day: RiderDay) -> None:
    action = uuid.uuid4()

    event = rider_stop_fail(
        task=day.stops[1], reason=FailureReason.NOT_HOME, note="Gate locked", client_action_id=action, actor=day.actor
    )
    again = rider_stop_fail(task=day.stops[1], reason=FailureReason.NOT_HOME, client_action_id=action, actor=day.actor)

    task = DeliveryTask.objects.get(pk=day.stops[1].pk)
    assert event.pk == again.pk
    assert (task.status, task.attempts, task.failure_reason) == (S.ATTEMPT_FAILED, 1, "not_home")
    assert event.reason == "Recipient not home: Gate locked"


def test_rider_stop_fail_needs_a_known_reason(day: RiderDay) -> None:
    error = refused(
        lambda: rider_stop_fail(task=day.stops[1], reason="bored", client_action_id=uuid.uuid4(), actor=day.actor)
    )

    assert fields_of(error) == ["reason"]


def test_rider_pickup_scan_collects_the_pickup_and_sends_its_drop_off_out(partner_a: Any) -> None:
    pair = PairInput(pickup=stop_input(0, kind=TaskKind.PICKUP), drop_off=stop_input(1))
    day = rider_day(partner_a, [pair])
    pickup, drop_off = day.stops
    assert drop_off.status == S.PICKUP_SCHEDULED, "a paired drop-off waits for its pickup"

    wrong = refused(
        lambda: rider_pickup_scan(task=pickup, code="NOT-IT", client_action_id=uuid.uuid4(), actor=day.actor)
    )
    action = uuid.uuid4()
    scanned = pickup.tracking_code.replace("-", "").lower()
    rider_pickup_scan(task=pickup, code=scanned, client_action_id=action, actor=day.actor)
    rider_pickup_scan(task=pickup, code=scanned, client_action_id=action, actor=day.actor)

    assert fields_of(wrong) == ["code"]
    assert DeliveryTask.objects.get(pk=pickup.pk).status == S.PICKED_UP
    assert DeliveryTask.objects.get(pk=drop_off.pk).status == S.OUT_FOR_DELIVERY
    assert TrackingEvent.objects.filter(task=pickup, status=S.PICKED_UP).count() == 1


def test_rider_handback_flags_a_shortfall_and_puts_the_parcels_back_at_the_hub(day: RiderDay) -> None:
    deliver(day, 0, cod_collected=Decimal("1500"))
    rider_stop_fail(task=day.stops[1], reason=FailureReason.REFUSED, client_action_id=uuid.uuid4(), actor=day.actor)
    action = uuid.uuid4()

    record = rider_handback(
        route=day.route, handed_cash=Decimal("1000"), handed_parcels=1, client_action_id=action, actor=day.actor
    )
    again = rider_handback(
        route=day.route, handed_cash=Decimal("1000"), handed_parcels=1, client_action_id=action, actor=day.actor
    )

    assert again.pk == record.pk
    assert (record.expected_cash, record.handed_cash, record.cash_short) == (
        Decimal("1500"),
        Decimal("1000"),
        Decimal("500"),
    )
    assert (record.expected_parcels, record.parcels_short, record.flagged) == (2, 1, True)
    assert record.expected_codes == [day.stops[1].tracking_code, day.stops[2].tracking_code]
    assert set(
        DeliveryTask.objects.filter(pk__in=[day.stops[1].pk, day.stops[2].pk]).values_list("status", flat=True)
    ) == {S.AT_HUB}
    assert Route.objects.get(pk=day.route.pk).status == RouteStatus.DONE
    assert isinstance(
        refused(
            lambda: rider_handback(
                route=day.route,
                handed_cash=Decimal("0"),
                handed_parcels=0,
                client_action_id=uuid.uuid4(),
                actor=day.actor,
            )
        ),
        Conflict,
    )


def test_rider_handback_in_order_is_not_flagged(day: RiderDay) -> None:
    deliver(day, 0, cod_collected=Decimal("1500"))

    record = rider_handback(
        route=day.route, handed_cash=Decimal("1500"), handed_parcels=2, client_action_id=uuid.uuid4(), actor=day.actor
    )

    assert not record.flagged
    assert HandBack.objects.count() == 1


# Through the doors -------------------------------------------------------------------------------


def signed_in(day: RiderDay) -> Client:
    client = Client()
    client.force_login(day.rider.user)
    return client


def post_action(client: Client, body: dict[str, Any]) -> Any:
    return client.post("/ops/rider/actions", json.dumps(body), content_type="application/json")


def test_the_actions_door_applies_a_repeated_action_once_and_answers_the_same(day: RiderDay) -> None:
    client = signed_in(day)
    body = {
        "action": "fail",
        "stop": str(day.stops[1].public_id),
        "client_action_id": str(uuid.uuid4()),
        "reason": "not_home",
    }

    first, again = post_action(client, body), post_action(client, body)

    assert (first.status_code, again.status_code) == (200, 200)
    assert (first.json()["status"], first.json()["replayed"], again.json()["replayed"]) == (
        "attempt_failed",
        False,
        True,
    )
    assert TrackingEvent.objects.filter(task=day.stops[1], status=S.ATTEMPT_FAILED).count() == 1


def test_the_actions_door_answers_a_readable_problem(day: RiderDay) -> None:
    response = post_action(
        signed_in(day),
        {
            "action": "deliver",
            "stop": str(day.stops[0].public_id),
            "client_action_id": str(uuid.uuid4()),
            "recipient_name": "Hina",
            "cod_collected": "900",
        },
    )

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["message"] == "Collect exactly Rs 1,500.00: you entered Rs 900.00."


def test_the_actions_door_takes_a_photo_as_a_data_url(day: RiderDay, settings: Any) -> None:
    import base64

    settings.ALLIED_PROOF_LEVELS = {"partner-a": "photo"}
    response = post_action(
        signed_in(day),
        {
            "action": "deliver",
            "stop": str(day.stops[1].public_id),
            "client_action_id": str(uuid.uuid4()),
            "photo": "data:image/png;base64," + base64.b64encode(PNG).decode(),
        },
    )

    assert response.status_code == 200, response.content
    assert Proof.objects.get(task=day.stops[1]).photo.read() == PNG


def test_a_wrong_code_is_counted_through_the_door(day: RiderDay, settings: Any) -> None:
    settings.ALLIED_PROOF_LEVELS = {"partner-a": "code"}
    record = rider_delivery_code_send(task=day.stops[1], actor=day.actor)
    client = signed_in(day)

    for _ in range(5):
        body = {"action": "deliver", "stop": str(day.stops[1].public_id), "client_action_id": str(uuid.uuid4())}
        assert post_action(client, body | {"code": "000000" if record else ""}).status_code == 422
    last = post_action(client, body | {"code": "000000"})

    assert DeliveryCode.objects.get(pk=record.pk).tries == 5
    assert "Too many wrong codes" in last.json()["errors"][0]["message"]


def test_the_run_sheet_lists_the_stops_in_order_with_the_cash_to_collect(day: RiderDay) -> None:
    page = signed_in(day).get("/ops/rider/").content.decode()

    assert page.index("PECHS") < page.index("Bahadurabad") < page.index("Saddar")
    assert "COD Rs 1,500" in page
    assert 'rel="manifest"' in page


def test_the_stop_page_masks_the_number_and_links_to_maps(day: RiderDay) -> None:
    page = signed_in(day).get(f"/ops/rider/stops/{day.stops[0].public_id}/").content.decode()

    assert "Call Hina" in page
    assert "+92 ••• ••233" in page
    assert 'href="tel:+923001112233"' in page
    assert "geo:24.873000,67.060000" in page
    assert "openstreetmap.org/?mlat=24.873000" in page


def test_a_rider_gets_404_for_another_riders_stop(day: RiderDay, partner_a: Any) -> None:
    other = rider_day(partner_a, [stop_input(3)])

    response = signed_in(other).get(f"/ops/rider/stops/{day.stops[0].public_id}/")

    assert response.status_code == 404


def test_a_form_post_without_javascript_delivers_once(day: RiderDay) -> None:
    client = signed_in(day)
    body = {"action": "deliver", "client_action_id": str(uuid.uuid4()), "recipient_name": "Hina"}
    url = f"/ops/rider/stops/{day.stops[1].public_id}/"

    first, again = client.post(url, body), client.post(url, body)

    assert (first.status_code, first["Location"]) == (302, "/ops/rider/")
    assert again.status_code == 302
    assert TrackingEvent.objects.filter(task=day.stops[1], status=S.DELIVERED).count() == 1


def test_the_hand_back_page_records_what_is_handed_over(day: RiderDay) -> None:
    client = signed_in(day)

    response = client.post(
        "/ops/rider/hand-back/", {"handed_cash": "0", "handed_parcels": "3", "client_action_id": str(uuid.uuid4())}
    )

    assert response.status_code == 302
    assert "Recorded: all in order" in client.get("/ops/rider/hand-back/").content.decode()


def test_the_service_worker_and_manifest_are_served_for_the_rider_scope(client: Client) -> None:
    worker = client.get("/ops/rider/sw.js")
    manifest = client.get("/ops/rider/manifest.webmanifest")

    assert worker["Content-Type"].startswith("text/javascript")
    assert b"importScripts" in worker.content
    assert b'"scope": "/ops/rider/"' in worker.content
    assert manifest.json()["start_url"] == "/ops/rider/"


def test_the_dispatcher_board_shows_each_hand_back_with_its_shortfall_first(
    day: RiderDay, operator_org, member
) -> None:
    from django.test import Client

    deliver(day, 0, cod_collected=Decimal("1500"))
    rider_handback(
        route=day.route, handed_cash=Decimal("1000"), handed_parcels=2, client_action_id=uuid.uuid4(), actor=day.actor
    )
    dispatcher = Client()
    dispatcher.force_login(member(operator_org, Role.DISPATCHER).user)

    page = dispatcher.get(
        "/ops/dispatch/", {"hub": day.route.hub.code, "date": day.route.date.isoformat()}
    ).content.decode()

    assert "End-of-day hand-backs (1)" in page
    assert "Rs 1,500.00" in page
    assert "Rs 1,000.00" in page
    assert '<tr class="problem">' in page
    assert "Short</span>" in page
