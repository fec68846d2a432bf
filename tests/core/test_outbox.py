"""The transactional outbox: every event reaches every subscriber once, in per-aggregate order."""

import json
import random
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import connections, transaction
from django.test import override_settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from allied.catalog.models import Product
from allied.core.event_types import CATALOGUE, PRODUCT_UPDATED
from allied.core.events import domain_event_record
from allied.core.models import (
    AuditEntry,
    DeliveryStatus,
    DomainEvent,
    EventDelivery,
    Subscription,
)
from allied.core.outbox import (
    consumer,
    delivery_replay,
    outbox_prune,
    outbox_relay,
    subscriptions_sync,
    webhook_subscription_create,
)
from allied.orders.models import Order
from allied.orders.services.lifecycle import order_cancel
from tests.catalog.factories import ProductFactory
from tests.orders.test_orders_api import order_body

RECORDER = "tests.recorder"
FAILING = "tests.failing"
failures_left = {"count": 0}


@consumer(RECORDER, event_types=["*"])
def record_event(event: DomainEvent) -> None:
    """Applies each event as a row in the consumer's own transaction: counting the rows counts
    the applications."""
    AuditEntry.objects.create(
        action="test.consumed", object_type=f"{event.aggregate_type}:{event.aggregate_id}", object_id=str(event.pk)
    )


@consumer(FAILING, event_types=["product.updated"])
def fail_sometimes(event: DomainEvent) -> None:
    AuditEntry.objects.create(action="test.half_applied", object_id=str(event.pk))
    if failures_left["count"]:
        failures_left["count"] -= 1
        raise RuntimeError("the consumer's database is down")


def consumed() -> list[tuple[str, int]]:
    return [
        (aggregate, int(event_id))
        for aggregate, event_id in AuditEntry.objects.filter(action="test.consumed")
        .order_by("id")
        .values_list("object_type", "object_id")
    ]


def drain() -> int:
    total = 0
    while relayed := outbox_relay():
        total += relayed
    return total


@pytest.fixture(autouse=True)
def no_failures_planned() -> None:
    failures_left["count"] = 0


@pytest.fixture
def subscribed(db: None) -> None:
    subscriptions_sync()


@pytest.mark.django_db
def test_every_recorded_event_is_in_the_catalogue_with_a_valid_payload(
    partner_a, floor, stock_in, api_client_for, system_actor
) -> None:
    stock_in(ProductFactory(organization=partner_a, sku="TEE"), 5)
    api = api_client_for(partner_a)
    response = api.post("/api/v1/orders", json.dumps(order_body()), content_type="application/json")
    order_cancel(order=Order.objects.get(pk=response.json()["id"]), reason="test", actor=system_actor)

    events = list(DomainEvent.objects.all())
    assert {"order.created", "inventory.level_changed", "order.cancelled"} <= {event.type for event in events}
    for event in events:
        CATALOGUE[event.type].validate(event.payload)
        assert event.version == CATALOGUE[event.type].version


@pytest.mark.django_db
def test_each_subscriber_gets_one_delivery_per_event_written_with_it(
    subscribed, partner_a, floor, stock_in, api_client_for
) -> None:
    stock_in(ProductFactory(organization=partner_a, sku="TEE"), 5)
    api_client_for(partner_a).post("/api/v1/orders", json.dumps(order_body()), content_type="application/json")

    events = set(DomainEvent.objects.values_list("pk", flat=True))
    recorder = Subscription.objects.get(name=RECORDER)
    assert set(EventDelivery.objects.filter(subscription=recorder).values_list("event_id", flat=True)) == events
    # the failing consumer subscribed to product.updated only
    assert not EventDelivery.objects.filter(subscription__name=FAILING).exists()

    assert drain() == EventDelivery.objects.count()  # the recorder's, and the apps' own consumers'
    assert set(EventDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert sorted(event_id for _, event_id in consumed()) == sorted(events)
    assert drain() == 0
    assert len(consumed()) == len(events)


@pytest.mark.django_db
def test_a_failing_consumer_is_retried_with_backoff_and_leaves_nothing_half_applied(subscribed, partner_a) -> None:
    product = ProductFactory(organization=partner_a)
    failures_left["count"] = 2
    with transaction.atomic():
        domain_event_record(type=PRODUCT_UPDATED, organization=partner_a, aggregate=product, payload=_payload(product))
    delivery = EventDelivery.objects.get(subscription__name=FAILING)

    drain()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert "database is down" in delivery.last_error
    assert delivery.next_attempt_at >= timezone.now() + timedelta(seconds=9)
    assert not AuditEntry.objects.filter(action="test.half_applied").exists()

    for _ in range(2):
        EventDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        drain()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 3)
    assert AuditEntry.objects.filter(action="test.half_applied").count() == 1
    assert [attempt.error != "" for attempt in delivery.attempt_log.all()] == [True, True, False]


@pytest.mark.django_db
@override_settings(ALLIED_OUTBOX_MAX_ATTEMPTS=2)
def test_after_the_last_attempt_a_delivery_fails_and_can_be_replayed(subscribed, partner_a) -> None:
    product = ProductFactory(organization=partner_a)
    failures_left["count"] = 2
    domain_event_record(type=PRODUCT_UPDATED, organization=partner_a, aggregate=product, payload=_payload(product))
    delivery = EventDelivery.objects.get(subscription__name=FAILING)
    for _ in range(2):
        EventDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        drain()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED

    delivery_replay(delivery=delivery)
    drain()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempt_log.count() == 3


@pytest.mark.django_db
def test_a_later_event_of_an_aggregate_waits_for_the_earlier_one(subscribed, partner_a) -> None:
    product, other = ProductFactory(organization=partner_a), ProductFactory(organization=partner_a)
    first = domain_event_record(
        type=PRODUCT_UPDATED, organization=partner_a, aggregate=product, payload=_payload(product)
    )
    second = domain_event_record(
        type=PRODUCT_UPDATED, organization=partner_a, aggregate=product, payload=_payload(product)
    )
    unrelated = domain_event_record(
        type=PRODUCT_UPDATED, organization=partner_a, aggregate=other, payload=_payload(other)
    )
    # the first delivery to the recorder is not due yet (as after a failed attempt)
    EventDelivery.objects.filter(event=first, subscription__name=RECORDER).update(
        next_attempt_at=timezone.now() + timedelta(hours=1)
    )

    drain()
    assert [event_id for _, event_id in consumed()] == [unrelated.pk]

    EventDelivery.objects.filter(event=first).update(next_attempt_at=timezone.now())
    drain()
    assert [event_id for _, event_id in consumed()] == [unrelated.pk, first.pk, second.pk]


@pytest.mark.django_db
def test_pruning_keeps_pending_deliveries_and_recent_events(subscribed, partner_a) -> None:
    product = ProductFactory(organization=partner_a)
    old = domain_event_record(
        type=PRODUCT_UPDATED, organization=partner_a, aggregate=product, payload=_payload(product)
    )
    stuck = domain_event_record(
        type=PRODUCT_UPDATED, organization=partner_a, aggregate=other_product(partner_a), payload=_payload(product)
    )
    EventDelivery.objects.filter(event=stuck).update(next_attempt_at=timezone.now() + timedelta(days=90))
    drain()
    recent = domain_event_record(
        type=PRODUCT_UPDATED, organization=partner_a, aggregate=product, payload=_payload(product)
    )
    DomainEvent.objects.filter(pk__in=[old.pk, stuck.pk]).update(occurred_at=timezone.now() - timedelta(days=31))

    removed = outbox_prune()

    assert removed["events"] == 1
    assert set(DomainEvent.objects.values_list("pk", flat=True)) == {stuck.pk, recent.pk}
    assert EventDelivery.objects.filter(event=stuck, status=DeliveryStatus.PENDING).count() == 2


def other_product(organization: Any) -> Product:
    return ProductFactory(organization=organization)


def _payload(product: Product) -> dict[str, Any]:
    return {
        "id": product.pk,
        "sku": product.sku,
        "name": product.name,
        "barcodes": product.barcodes,
        "declared_value": str(product.declared_value),
        "currency": product.currency,
        "is_active": product.is_active,
    }


class Endpoint:
    """A partner's webhook endpoint: answers from a script, remembers what it received."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, str]]] = []
        self.received: list[tuple[dict[str, str], bytes]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                endpoint.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status, headers = endpoint.answers.pop(0) if endpoint.answers else (200, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def endpoint() -> Any:
    served = Endpoint()
    yield served
    served.server.shutdown()


def webhook_delivery(event: DomainEvent) -> EventDelivery:
    return EventDelivery.objects.get(event=event, subscription__kind=Subscription.Kind.WEBHOOK)


SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def webhook_for(partner: Any, url: str) -> Subscription:
    return webhook_subscription_create(
        name=f"{partner.slug} webhook", url=url, secret=SECRET, event_types=["product.updated"], organization=partner
    )


@pytest.mark.django_db
def test_a_webhook_is_signed_with_standard_webhooks_and_carries_the_event(endpoint, partner_a, partner_b) -> None:
    webhook_for(partner_a, endpoint.url)
    product = ProductFactory(organization=partner_a)
    event = domain_event_record(
        type=PRODUCT_UPDATED, organization=partner_a, aggregate=product, payload=_payload(product)
    )
    ProductFactory(organization=partner_b)  # another tenant's events never go to this endpoint
    domain_event_record(type=PRODUCT_UPDATED, organization=partner_b, aggregate=product, payload=_payload(product))

    drain()

    assert len(endpoint.received) == 1
    headers, body = endpoint.received[0]
    verified = Webhook(SECRET).verify(body, headers)
    assert verified["id"] == headers["webhook-id"] == f"evt_{event.pk}"
    assert (verified["type"], verified["version"], verified["data"]["sku"]) == ("product.updated", 1, product.sku)
    assert webhook_delivery(event).status == DeliveryStatus.DELIVERED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "headers", "expected", "earliest_retry"),
    [
        (500, {}, DeliveryStatus.PENDING, 5),  # the first step of WEBHOOK_RETRY_SCHEDULE
        (408, {}, DeliveryStatus.PENDING, 5),
        (429, {"Retry-After": "120"}, DeliveryStatus.PENDING, 120),
        (503, {"Retry-After": "7200"}, DeliveryStatus.PENDING, 7200),
        (503, {"Retry-After": "200000"}, DeliveryStatus.PENDING, 36000),  # capped at the schedule's longest wait
        (410, {}, DeliveryStatus.FAILED, None),
        (400, {}, DeliveryStatus.FAILED, None),
    ],
)
def test_webhook_answers_decide_the_retry(endpoint, partner_a, status, headers, expected, earliest_retry) -> None:
    webhook_for(partner_a, endpoint.url)
    endpoint.answers.append((status, headers))
    product = ProductFactory(organization=partner_a)
    event = domain_event_record(
        type=PRODUCT_UPDATED, organization=partner_a, aggregate=product, payload=_payload(product)
    )
    before = timezone.now()

    drain()

    delivery = webhook_delivery(event)
    assert delivery.status == expected
    assert delivery.attempt_log.get().status_code == status
    if earliest_retry is not None:
        wait = (delivery.next_attempt_at - before).total_seconds()
        assert earliest_retry <= wait <= earliest_retry + 5


@pytest.mark.django_db
def test_an_unreachable_endpoint_is_tried_again(partner_a) -> None:
    webhook_for(partner_a, "http://127.0.0.1:9/nothing-listens-here")
    product = ProductFactory(organization=partner_a)
    event = domain_event_record(
        type=PRODUCT_UPDATED, organization=partner_a, aggregate=product, payload=_payload(product)
    )

    drain()

    delivery = webhook_delivery(event)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert "ConnectError" in delivery.last_error


WRITERS = 16
EVENTS_PER_WRITER = 6
AGGREGATES = 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_16_writers_commit_out_of_id_order_while_relays_run(partner_a) -> None:
    """Writers hold their transactions open for random times after drawing event ids, so events
    commit out of id order; two relays run all the while. Every subscriber gets every event once,
    and each aggregate's events in the order they were recorded."""
    subscriptions_sync()
    products = [ProductFactory(organization=partner_a) for _ in range(AGGREGATES)]
    start = threading.Barrier(WRITERS)
    committed: list[int] = []  # event ids in (about) the order their transactions committed
    writing = threading.Event()
    writing.set()

    def write(number: int) -> None:
        rng = random.Random(number)
        start.wait()
        try:
            for _ in range(EVENTS_PER_WRITER):
                product = rng.choice(products)
                with transaction.atomic(durable=True):
                    # the aggregate's lock, as every service takes before recording its events
                    locked = Product.objects.select_for_update().get(pk=product.pk)
                    event = domain_event_record(
                        type=PRODUCT_UPDATED, organization=partner_a, aggregate=locked, payload=_payload(locked)
                    )
                    time.sleep(rng.uniform(0, 0.02))
                committed.append(event.pk)
        finally:
            connections.close_all()

    def relay() -> None:
        try:
            while writing.is_set():
                if not outbox_relay(limit=5):
                    time.sleep(0.005)
        finally:
            connections.close_all()

    failures_left["count"] = 3  # the failing consumer also fails now and then, and is retried
    with ThreadPoolExecutor(max_workers=WRITERS + 2) as pool:
        relays = [pool.submit(relay) for _ in range(2)]
        writers = [pool.submit(write, number) for number in range(WRITERS)]
        for future in writers:
            future.result()
        writing.clear()
        for future in relays:
            future.result()
    while EventDelivery.objects.filter(status=DeliveryStatus.PENDING).exists():
        EventDelivery.objects.update(next_attempt_at=timezone.now())
        drain()

    assert committed != sorted(committed), "the writers should have committed out of id order"
    events = list(DomainEvent.objects.order_by("pk").values_list("pk", "aggregate_type", "aggregate_id"))
    assert len(events) == WRITERS * EVENTS_PER_WRITER
    received = consumed()
    assert sorted(event_id for _, event_id in received) == [pk for pk, _, _ in events]
    by_aggregate = defaultdict(list)
    for aggregate, event_id in received:
        by_aggregate[aggregate].append(event_id)
    for aggregate_events in by_aggregate.values():
        assert aggregate_events == sorted(aggregate_events)
    assert AuditEntry.objects.filter(action="test.half_applied").count() == len(events)
    assert not EventDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()


@pytest.mark.django_db
@override_settings(ALLIED_OUTBOX_MAX_ATTEMPTS=1)
def test_an_administrator_sees_a_failed_delivery_with_its_reason_and_sends_it_again(
    subscribed, partner_a, operator_org, member, client_for
) -> None:
    product = ProductFactory(organization=partner_a)
    failures_left["count"] = 1
    event = domain_event_record(
        type=PRODUCT_UPDATED, organization=partner_a, aggregate=product, payload=_payload(product)
    )
    drain()
    failed = EventDelivery.objects.get(event=event, subscription__name=FAILING)
    admin = client_for(member(operator_org, "admin"))

    listing = admin.get("/admin/core/eventdelivery/?status__exact=failed")
    detail = admin.get(f"/admin/core/eventdelivery/{failed.pk}/change/")
    replayed = admin.post(
        "/admin/core/eventdelivery/", {"action": "replay", "_selected_action": [failed.pk]}, follow=True
    )
    drain()

    assert "database is down" in listing.content.decode()
    assert "RuntimeError" in detail.content.decode()  # the attempt, with its error
    assert "Delivery attempts" in detail.content.decode()  # the attempts' own table, not only the last error
    assert "1 deliveries queued again." in replayed.content.decode()
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.DELIVERED
