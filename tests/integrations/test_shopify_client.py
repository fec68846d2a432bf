"""Allied's conversation with Shopify's GraphQL Admin API, over real HTTP to a local fake shop that
keeps Shopify's contract (tokens, argument names, selections, query costs and throttling)."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from allied.accounts.policy import Actor
from allied.core.models import PersonalDataShared
from allied.core.outbound import OutboundError
from allied.integrations.connectors import FulfillmentRequest, Shipment, TakeIn
from allied.integrations.models import Connection, ConnectionKind, InboxMessage
from allied.integrations.services.connections import connection_create
from allied.integrations.shopify import WEBHOOK_TOPICS, Shopify, ShopifyClient, order_input
from tests.fakes.shopify import (
    ACCESS_TOKEN,
    CLIENT_SECRET,
    FakeShopify,
    django_client_delivery,
    served_fake_shopify,
)

pytestmark = pytest.mark.django_db

ADDRESS = "https://allied.example/integrations/shopify/abc/webhooks"


@pytest.fixture
def fake_shopify(settings) -> Iterator[FakeShopify]:
    yield from served_fake_shopify(settings)


@pytest.fixture
def shop(partner_a, member) -> Connection:
    membership = member(partner_a)
    return connection_create(
        organization=partner_a,
        kind=ConnectionKind.SHOPIFY,
        name="Kohsar Shopify",
        store_url="kohsar.myshopify.com",
        credentials={"access_token": ACCESS_TOKEN, "client_secret": CLIENT_SECRET},
        actor=Actor(user=membership.user, organization=partner_a, role=membership.role),
    )


@pytest.fixture
def api(shop, fake_shopify) -> Any:
    made = ShopifyClient(shop, sleep=fake_shopify.advance, clock=fake_shopify.clock)
    yield made
    made.close()


@pytest.fixture
def allied(shop, api) -> dict[str, Any]:
    """Allied set up as the shop's fulfillment service, its ids kept on the connection."""
    shop.remote = api.setup(webhook_address=ADDRESS)
    shop.save(update_fields=["remote"])
    return shop.remote


def mutations(fake: FakeShopify) -> list[str]:
    return [field for request in fake.requests if request["kind"] == "mutation" for field in request["fields"]]


def test_check_names_the_shop(api) -> None:
    assert api.check() == "Kohsar"


def test_a_wrong_access_token_is_a_401_store_error(api, fake_shopify) -> None:
    fake_shopify.access_token = "shpat_revoked"

    with pytest.raises(OutboundError) as refused:
        api.check()

    assert refused.value.status == 401
    assert fake_shopify.sleeps == []  # a 401 is not retried


def test_setup_twice_gives_one_fulfillment_service_and_one_subscription_per_topic(api, fake_shopify) -> None:
    first = api.setup(webhook_address=ADDRESS)
    again = ShopifyClient(api.connection, sleep=fake_shopify.advance).setup(webhook_address=ADDRESS)

    assert first == again
    assert len(fake_shopify.services) == 1
    service = fake_shopify.services[0]
    assert (service["serviceName"], service["trackingSupport"], service["inventoryManagement"]) == (
        "Allied",
        True,
        True,
    )
    assert first["fulfillment_service_id"] == service["id"]
    assert first["location_id"] == service["location"]["id"]
    assert sorted((s["topic"], s["callbackUrl"]) for s in fake_shopify.subscriptions) == sorted(
        (topic, ADDRESS) for topic in WEBHOOK_TOPICS
    )
    assert set(first["webhook_ids"]) == set(WEBHOOK_TOPICS)
    assert mutations(fake_shopify).count("fulfillmentServiceCreate") == 1
    assert mutations(fake_shopify).count("webhookSubscriptionCreate") == len(WEBHOOK_TOPICS)


def test_polled_orders_come_oldest_change_first_page_by_page_in_the_webhook_shape(api, allied, fake_shopify) -> None:
    since = datetime(2026, 12, 5, 10, tzinfo=UTC)
    fake_shopify.create_order(1, deliver=False, updated_at="2026-12-05T09:59:59Z")  # before: not polled
    bodies = {}
    for number in range(2, 14):
        stamp = (since + timedelta(minutes=20 - number)).isoformat()
        bodies[number] = fake_shopify.create_order(number, deliver=False, updated_at=stamp)
    many_lines = [
        {"id": n, "title": f"Item {n}", "sku": f"SKU-{n}", "quantity": 1, "price": "10.00"} for n in range(30)
    ]
    bodies[14] = fake_shopify.create_order(
        14, deliver=False, updated_at=(since + timedelta(hours=1)).isoformat(), line_items=many_lines
    )

    first = api.orders_updated_since(since, None)
    second = api.orders_updated_since(since, first.cursor)

    assert (len(first.orders), first.cursor is not None, second.cursor) == (10, True, None)
    polled = first.orders + second.orders
    assert [order.store_order_id for order in polled] == [str(n) for n in [*range(13, 1, -1), 14]]
    assert [order.updated_at for order in polled] == sorted(order.updated_at for order in polled)
    for order in polled:
        number = int(order.store_order_id)
        assert order.topic == "orders/updated"
        assert order_input(order.payload) == order_input(bodies[number])  # read as the webhook would be
        assert Shopify().updated_at(order.payload) == datetime.fromisoformat(bodies[number]["updated_at"])
    assert len(polled[-1].payload["line_items"]) == 30  # the lines past the first 25 fetched apart
    assert isinstance(Shopify().action(polled[0].topic, polled[0].payload), TakeIn)
    assert max(request["cost"] for request in fake_shopify.requests) <= 1000


def test_a_polled_cancelled_order_keeps_its_cancellation(api, allied, fake_shopify) -> None:
    fake_shopify.create_order(7, deliver=False)
    fake_shopify.cancel_order(7, deliver=False)

    page = api.orders_updated_since(datetime.now(UTC) - timedelta(hours=1), None)

    assert page.orders[0].payload["cancelled_at"]
    assert type(Shopify().action("orders/updated", page.orders[0].payload)).__name__ == "Cancel"


def shipment(order_id: int, url: str = "https://track.example/cn/LHE123") -> Shipment:
    return Shipment(
        store_order_id=str(order_id), order_number="AL-0001", tracking_number="LHE123", company="TCS", url=url
    )


def test_shipment_confirm_fulfils_with_the_tracking_once(api, allied, fake_shopify) -> None:
    fake_shopify.create_order(21, deliver=False)
    fake_shopify.create_order(22, deliver=False, location_id="gid://shopify/Location/1")  # the merchant's own

    api.shipment_confirm(shipment(21))
    api.shipment_confirm(shipment(21))
    api.shipment_confirm(shipment(22))

    [fulfillment] = fake_shopify.fulfillments
    assert fulfillment.tracking == {"number": "LHE123", "company": "TCS", "url": "https://track.example/cn/LHE123"}
    assert fulfillment.notify_customer
    assert [fake_shopify.fulfillment_orders[id_].status for id_ in fulfillment.fulfillment_order_ids] == ["CLOSED"]
    assert mutations(fake_shopify).count("fulfillmentCreate") == 1
    assert not PersonalDataShared.objects.exists()  # a tracking number and a carrier's link: nothing personal


def test_a_tracking_link_carrying_the_recipients_phone_is_in_the_sharing_register(api, allied, fake_shopify) -> None:
    fake_shopify.create_order(23, deliver=False)

    api.shipment_confirm(shipment(23, url="https://track.example/?cn=LHE123&consignee_phone=03001112233"))

    shared = PersonalDataShared.objects.get()
    assert (shared.recipient, shared.recipient_category, shared.data_categories, shared.reference) == (
        "kohsar.myshopify.com",
        "store_platforms",
        ["user.contact.phone_number"],
        "AL-0001",
    )


def test_stock_set_updates_allied_location_and_reports_unknown_skus(api, allied, fake_shopify) -> None:
    for sku in ("TEE-BLK-M", "CAP-RED"):
        fake_shopify.add_variant(sku)

    unknown = api.stock_set({"TEE-BLK-M": 5, "CAP-RED": 0, "MUG-NEW": 3})

    assert unknown == ["MUG-NEW"]
    location = allied["location_id"]
    assert (fake_shopify.level("TEE-BLK-M", location), fake_shopify.level("CAP-RED", location)) == (5, 0)
    assert fake_shopify.level("TEE-BLK-M", "gid://shopify/Location/1") is None  # the merchant's stock untouched
    assert not PersonalDataShared.objects.exists()


def test_stock_set_goes_in_batches_shopify_accepts(api, allied, fake_shopify) -> None:
    skus = [f"SKU-{n:03d}" for n in range(260)]
    for sku in skus:
        fake_shopify.add_variant(sku)

    assert api.stock_set(dict.fromkeys(skus, 4)) == []

    assert mutations(fake_shopify).count("inventorySetQuantities") == 2
    assert {fake_shopify.level(sku, allied["location_id"]) for sku in skus} == {4}


def test_fulfillment_requests_are_accepted_or_rejected(api, allied, fake_shopify) -> None:
    fake_shopify.create_order(31, deliver=False)
    fake_shopify.create_order(32, deliver=False)
    accepted = fake_shopify.submit_fulfillment_request(31, deliver=False)
    rejected = fake_shopify.submit_fulfillment_request(32, deliver=False)

    assert api.fulfillment_order_store_order_id(accepted) == "31"
    assert api.fulfillment_request_answer(accepted, accept=True, message="") == "ACCEPTED"
    assert api.fulfillment_request_answer(rejected, accept=False, message="MUG-NEW is not stocked") == "REJECTED"

    assert (fake_shopify.fulfillment_orders[accepted].status, fake_shopify.fulfillment_orders[rejected].status) == (
        "IN_PROGRESS",
        "OPEN",
    )
    assert fake_shopify.fulfillment_orders[rejected].messages == ["MUG-NEW is not stocked"]
    with pytest.raises(OutboundError, match="request status is accepted"):
        api.fulfillment_request_answer(accepted, accept=True, message="")


def test_cancellation_requests_are_accepted_or_rejected(api, allied, fake_shopify) -> None:
    for number in (41, 42):
        fake_shopify.create_order(number, deliver=False)
        api.fulfillment_request_answer(
            fake_shopify.submit_fulfillment_request(number, deliver=False), accept=True, message=""
        )
    cancelled, kept = (fake_shopify.orders[n].fulfillment_orders[0] for n in (41, 42))
    for id_ in (cancelled, kept):
        fake_shopify.submit_cancellation_request(id_, message="Customer changed their mind", deliver=False)

    assert api.cancellation_request_answer(cancelled, accept=True, message="") == "CANCELLATION_ACCEPTED"
    assert api.cancellation_request_answer(kept, accept=False, message="Already handed over") == (
        "CANCELLATION_REJECTED"
    )
    assert [fake_shopify.fulfillment_orders[id_].status for id_ in (cancelled, kept)] == ["CANCELLED", "IN_PROGRESS"]
    assert not PersonalDataShared.objects.exists()


def test_the_shops_webhooks_reach_allied_signed_and_fulfillment_requests_become_actions(
    shop, api, fake_shopify
) -> None:
    address = f"http://testserver/integrations/shopify/{shop.public_id}/webhooks"
    shop.remote = api.setup(webhook_address=address)
    shop.save(update_fields=["remote"])
    fake_shopify.deliver = django_client_delivery(Client())

    fake_shopify.create_order(51)
    fake_shopify.create_order(52, deliver=False)  # a dropped webhook: only polling finds it
    submitted = fake_shopify.submit_fulfillment_request(51, message="Fragile")
    fake_shopify.submit_cancellation_request(submitted, message="Customer changed their mind")

    assert [status for _, _, status in fake_shopify.deliveries] == [200, 200, 200]
    kept = {message.topic: json.loads(message.body) for message in InboxMessage.objects.all()}
    assert set(kept) == {
        "orders/create",
        "fulfillment_orders/fulfillment_request_submitted",
        "fulfillment_orders/cancellation_request_submitted",
    }
    connector = Shopify()
    topic = "fulfillment_orders/fulfillment_request_submitted"
    assert connector.action(topic, kept[topic]) == FulfillmentRequest(submitted, cancellation=False, message="Fragile")
    topic = "fulfillment_orders/cancellation_request_submitted"
    assert connector.action(topic, kept[topic]) == FulfillmentRequest(
        submitted, cancellation=True, message="Customer changed their mind"
    )


def test_a_429_is_waited_out_as_retry_after_asks(api, fake_shopify) -> None:
    fake_shopify.fail_next(1, status=429, retry_after="1")

    assert api.check() == "Kohsar"
    assert fake_shopify.sleeps == [1.0]


def test_a_throttled_query_waits_for_the_bucket_to_refill_and_is_sent_again(api, fake_shopify) -> None:
    fake_shopify.set_budget(available=0, restore_rate=50)

    assert api.check() == "Kohsar"

    assert fake_shopify.throttled == 1
    assert fake_shopify.sleeps == [pytest.approx(1 / 50)]  # `shop { name }` costs 1 point


def test_a_query_the_bucket_cannot_pay_for_waits_before_it_is_sent(api, allied, fake_shopify) -> None:
    fake_shopify.set_budget(available=900, restore_rate=100, maximum=1000)
    since = datetime.now(UTC) - timedelta(hours=1)

    api.orders_updated_since(since, None)  # 852 points: 48 left
    api.orders_updated_since(since, None)

    assert fake_shopify.throttled == 0
    assert fake_shopify.sleeps == [pytest.approx((852 - 48) / 100, abs=0.1)]
