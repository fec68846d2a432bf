"""The last mile end to end, through real HTTP, the real worker and the doors people use: three
orders of a partner picked, packed and handed over (two to AES's riders, one to Pathao, against the
fake); the hub's day planned and published; the rider starts, delivers one stop with the code the
recipient received and the cash, fails the other; that recipient moves the parcel to tomorrow from
the public tracking page; Pathao moves its parcel on by webhooks. Then every order, every tracking
page, the ops order page and the partner's signed webhooks tell the same story."""

import json
import logging
import re
import uuid
from datetime import time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.core.address import Address
from allied.core.outbox import webhook_subscription_create
from allied.core.tracking import TrackingStatus
from allied.delivery.models import DeliveryTask, Proof, Route, RouteStatus
from allied.delivery.services.planning import plan_run_request, route_publish
from allied.delivery.services.recipient import reschedule_days
from allied.fulfillment.selectors import pick_tasks
from allied.fulfillment.services import manifest_close, manifest_open, manifest_scan, pick_list_create, pick_list_scan
from allied.orders.models import Order, OrderStatus, PaymentMethod
from allied.orders.services.intake import order_create
from allied.orders.services.lifecycle import order_pack
from tests.catalog.factories import ProductFactory
from tests.core.test_outbox import Endpoint
from tests.delivery.factories import HubFactory, RiderFactory, ShiftFactory
from tests.delivery.test_courier_flow import pathao_account, to_allied
from tests.fakes.pathao import FakePathao
from tests.fakes.pathao import fake_pathao as fake_pathao  # the fixture
from tests.orders.factories import order_input
from tests.worker import run_until_quiet

pytestmark = pytest.mark.django_db(transaction=True)

SYSTEM = Actor.system("tests")
S = TrackingStatus
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

# The recipients, each distinctive enough that a page showing any part of them is caught.
RECIPIENTS = [
    {
        "name": "Zarghuna Qizilbash",
        "phone": "+92 300 7654321",
        "digits": "7654321",
        "line1": "House 77-Q, Xylophone Lane",
        "area": "PECHS",
        "lat": Decimal("24.873000"),
        "lng": Decimal("67.060000"),
        "cod": Decimal("1500.00"),
    },
    {
        "name": "Quddus Farquharson",
        "phone": "+92 321 9876543",
        "digits": "9876543",
        "line1": "Flat Zeta-9, Walrus Heights",
        "area": "Bahadurabad",
        "lat": Decimal("24.880500"),
        "lng": Decimal("67.081000"),
        "cod": Decimal("2200.00"),
    },
]
PATHAO_RECIPIENT = {"name": "Nusrat Jahanara", "phone": "+8801712345678", "line1": "House 12, Road 4 Dhanmondi"}


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    cache.clear()


@pytest.fixture
def endpoint() -> Any:
    served = Endpoint()
    yield served
    served.server.shutdown()


def ordered(partner: Any, **recipient: Any) -> Order:
    """An order of one KURTA in stock, allocated to the warehouse."""
    if "area" in recipient:
        address = Address.given(
            line1=recipient["line1"],
            area=recipient["area"],
            city="Karachi",
            postcode="75400",
            lat=recipient["lat"],
            lng=recipient["lng"],
        )
        extra: dict[str, Any] = {"currency": "PKR", "payment_method": PaymentMethod.COD, "cod_amount": recipient["cod"]}
    else:  # a parcel for Pathao, in Dhaka, prepaid
        address = Address(line1=recipient["line1"], area="Dhanmondi", city="Dhaka", postcode="1209", country="BD")
        extra = {"currency": "BDT"}
    data = order_input(
        ("KURTA", 1), recipient_name=recipient["name"], recipient_phone=recipient["phone"], address=address, **extra
    )
    return order_create(organization=partner, data=data, actor=SYSTEM).order


def pick_and_pack(floor: Any, orders: list[Order]) -> None:
    pick_list = pick_list_create(warehouse=floor.warehouse, orders=orders, actor=SYSTEM)
    while tasks := pick_tasks(pick_list):
        pick_list_scan(pick_list=pick_list, code=tasks[0].sku, bin_code=tasks[0].bin_code, actor=SYSTEM)
    for order in orders:
        order_pack(order=order, scanned_codes=["KURTA"], weight_grams=700, dimensions_mm="300x200x100", actor=SYSTEM)


def hand_over(floor: Any, carrier: str, orders: list[Order]) -> None:
    manifest = manifest_open(warehouse=floor.warehouse, carrier=carrier, actor=SYSTEM)
    for order in orders:
        order.refresh_from_db()
        manifest_scan(manifest=manifest, code=order.tracking_code, actor=SYSTEM)
    manifest_close(manifest=manifest, actor=SYSTEM)


def act(client: Client, body: dict[str, Any]) -> Any:
    response = client.post("/ops/rider/actions", json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def received_by_code(endpoint: Endpoint) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {}
    for _headers, body in endpoint.received:
        event = json.loads(body)
        seen.setdefault(event["data"]["tracking_code"], []).append(event["type"])
    return seen


def test_the_last_mile_end_to_end(
    partner_a, operator_org, member, client_for, floor, stock_in, endpoint, fake_pathao: FakePathao, settings, caplog
) -> None:
    settings.ALLIED_PROOF_LEVELS = {"partner-a": "code"}
    settings.ALLIED_HUB_CLOSED_WEEKDAYS = []  # tomorrow is always a day the recipient may choose
    today = timezone.localdate()
    hub = HubFactory(service_areas=["PECHS", "Bahadurabad"], day_end=time(23, 59))
    rider = RiderFactory(hub=hub)
    ShiftFactory(rider=rider, date=today)
    dispatcher = member(operator_org, Role.DISPATCHER)
    dispatch = Actor(user=dispatcher.user, organization=operator_org, role=Role.DISPATCHER)
    webhook_subscription_create(
        name="Partner A deliveries", url=endpoint.url, secret=SECRET, event_types=["delivery.*"], organization=partner_a
    )
    pathao_account(fake_pathao)
    to_allied(fake_pathao, "pathao")

    # 1-2. Three orders picked, packed and handed over: two to AES's riders, one to Pathao.
    stock_in(ProductFactory(organization=partner_a, sku="KURTA"), 5)
    first, second = (ordered(partner_a, **recipient) for recipient in RECIPIENTS)
    third = ordered(partner_a, **PATHAO_RECIPIENT)
    pick_and_pack(floor, [first, second, third])
    hand_over(floor, "aes_riders", [first, second])
    hand_over(floor, "pathao", [third])
    run_until_quiet()

    orders = [Order.objects.get(pk=order.pk) for order in (first, second, third)]
    assert [order.status for order in orders] == [OrderStatus.HANDED_OVER] * 3
    stops = [DeliveryTask.objects.get(order=order) for order in orders]
    assert [stop.tracking_code for stop in stops] == [order.tracking_code for order in orders]
    assert [(stop.hub_id, stop.status, stop.courier) for stop in stops[:2]] == [(hub.pk, S.AT_HUB, "")] * 2
    assert (stops[2].courier, stops[2].status) == ("pathao", S.PICKUP_SCHEDULED)
    assert fake_pathao.orders[stops[2].consignment_id]["merchant_order_id"] == orders[2].number

    # 3. The hub's day is planned by the worker and published.
    plan_run_request(hub=hub, day=today, seconds=1, actor=dispatch)
    run_until_quiet()
    route = Route.objects.get(hub=hub, date=today)
    assert route.rider_id == rider.pk
    on_route = list(route.stops.order_by("sequence"))
    assert {stop.pk for stop in on_route} == {stops[0].pk, stops[1].pk}
    assert route_publish(route=route, actor=dispatch).status == RouteStatus.PUBLISHED

    # 4. The rider's day, through the rider app's doors.
    phone = Client()
    phone.force_login(rider.user)
    sheet = phone.get("/ops/rider/").content.decode()
    assert sheet.count("COD Rs ") >= 2
    for area in ("PECHS", "Bahadurabad"):
        assert area in sheet
    started = act(phone, {"action": "start"})
    assert started["message"] == "Route started: 2 parcels out for delivery."
    delivered_stop, failed_stop = on_route
    delivered_i = stops.index(next(s for s in stops if s.pk == delivered_stop.pk))
    failed_i = 1 - delivered_i

    caplog.set_level(logging.INFO, logger="allied.delivery.services.rider")
    act(phone, {"action": "code", "stop": str(delivered_stop.public_id)})
    sms = next(
        r.text  # type: ignore[attr-defined]
        for r in caplog.records
        if delivered_stop.tracking_code in getattr(r, "text", "")
    )
    code = re.search(r"code (\d{6})", sms).group(1)  # type: ignore[union-attr]
    delivered = act(
        phone,
        {
            "action": "deliver",
            "stop": str(delivered_stop.public_id),
            "client_action_id": str(uuid.uuid4()),
            "code": code,
            "cod_collected": str(RECIPIENTS[delivered_i]["cod"]),
        },
    )
    failed = act(
        phone,
        {
            "action": "fail",
            "stop": str(failed_stop.public_id),
            "client_action_id": str(uuid.uuid4()),
            "reason": "not_home",
        },
    )
    assert (delivered["status"], failed["status"]) == (S.DELIVERED, S.ATTEMPT_FAILED)
    proof = Proof.objects.get(task=delivered_stop)
    assert (proof.code_verified, proof.cod_collected) == (True, RECIPIENTS[delivered_i]["cod"])
    run_until_quiet()

    # 5. The recipient of the failed stop moves it to tomorrow from the public page.
    recipient = Client()
    url = f"/track/{failed_stop.tracking_code}"
    assert "We could not deliver it" in recipient.get(url).content.decode()
    caplog.set_level(logging.INFO, logger="allied.sms")
    sent = recipient.post(f"{url}/change", {"action": "send"})
    last_four = RECIPIENTS[failed_i]["digits"][-4:]
    code = re.findall(rf"SMS to …{last_four}: (\d{{6}}) is your code", caplog.text)[-1]
    verified = recipient.post(f"{url}/change", {"action": "verify", "code": code})
    grant = re.search(r'name="grant" value="([^"]+)"', verified.content.decode()).group(1)  # type: ignore[union-attr]
    tomorrow = today + timedelta(days=1)
    failed_stop.refresh_from_db()
    assert reschedule_days(failed_stop)[0] == tomorrow
    moved = recipient.post(
        f"{url}/change", {"action": "reschedule", "grant": grant, "reschedule-day": tomorrow.isoformat()}
    )
    assert "We sent a code" in sent.content.decode()
    assert "Done: your parcel will come on the day you chose." in moved.content.decode()
    failed_stop.refresh_from_db()
    assert (failed_stop.status, failed_stop.date, failed_stop.route_id) == (S.RESCHEDULED, tomorrow, None)

    # 6. Pathao moves its parcel on, by webhooks to Allied's door.
    for event in ("order.picked", "order.in-transit", "order.delivered"):
        answer = fake_pathao.advance(stops[2].consignment_id, event)
        assert answer is not None, event
        assert answer.status == 202, event
        run_until_quiet()

    # 7. Everything tells the same story.
    for order in orders:
        order.refresh_from_db()
    assert orders[delivered_i].status == OrderStatus.DELIVERED
    assert orders[failed_i].status == OrderStatus.ATTEMPT_FAILED
    assert orders[2].status == OrderStatus.DELIVERED

    public = Client(REMOTE_ADDR="203.0.113.9")
    pages = [public.get(f"/track/{stop.tracking_code}") for stop in stops]
    assert [page.status_code for page in pages] == [200] * 3
    html = [page.content.decode() for page in pages]
    for words in ("Delivered", "Out for delivery", "At our local hub"):
        assert words in html[delivered_i]
    for words in ("Moved to another day", "We could not deliver it", "Out for delivery", "At our local hub"):
        assert words in html[failed_i]
    for words in ("Delivered", "On its way to our hub", "Picked up", "Pickup scheduled"):
        assert words in html[2]
    for page, person in zip(html, [*RECIPIENTS, PATHAO_RECIPIENT], strict=True):
        secrets = [person["name"], *person["name"].split(), person["phone"], person["line1"]]
        secrets += [person.get("digits", person["phone"][-7:])]
        for secret in secrets:
            assert secret not in page, f"the tracking page shows {secret!r}"

    ops = client_for(dispatcher)
    detail = [ops.get(f"/ops/orders/{order.pk}/").content.decode() for order in orders]
    timelines = {
        delivered_i: ("At hub", "Out for delivery", "Delivered"),
        failed_i: ("Out for delivery", "Delivery attempt failed", "Rescheduled"),
        2: ("Pickup scheduled", "Picked up", "In transit", "Delivered"),
    }
    for index, labels in timelines.items():
        for label in labels:
            assert label in detail[index], f"order {index}: {label!r} missing from the ops order page"

    seen = received_by_code(endpoint)
    assert {"delivery.out_for_delivery", "delivery.delivered"} <= set(seen[stops[delivered_i].tracking_code])
    assert {"delivery.out_for_delivery", "delivery.attempt_failed", "delivery.rescheduled"} <= set(
        seen[stops[failed_i].tracking_code]
    )
    assert {"delivery.pickup_scheduled", "delivery.picked_up", "delivery.in_transit", "delivery.delivered"} <= set(
        seen[stops[2].tracking_code]
    )
    assert "delivery.out_for_delivery" not in seen[stops[2].tracking_code]
    signer = Webhook(SECRET)
    for headers, body in endpoint.received:
        verified = signer.verify(body, headers)
        assert verified["type"].startswith("delivery.")
