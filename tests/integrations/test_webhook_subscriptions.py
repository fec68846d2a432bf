"""Partners' apps subscribe to Allied's events through /api/v1/webhooks and receive them, signed,
at their own endpoint (here a real HTTP server on 127.0.0.1)."""

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.core.event_types import PRODUCT_UPDATED, topic_covers
from allied.core.events import domain_event_record
from allied.core.models import AuditEntry, DeliveryStatus, EventDelivery, Subscription
from allied.core.outbox import WEBHOOK_RETRY_SCHEDULE, outbox_relay
from allied.integrations.services.subscriptions import subscription_create
from tests.catalog.factories import ProductFactory
from tests.core.test_outbox import Endpoint, _payload
from tests.orders.test_orders_api import order_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint() -> Any:
    served = Endpoint()
    yield served
    served.server.shutdown()


@pytest.fixture
def hooks(partner_a, api_client_for) -> Client:
    return api_client_for(partner_a, scopes=["webhooks:manage"])


def create(client: Client, url: str, event_types: list[str], **fields: Any) -> Any:
    return client.post(
        "/api/v1/webhooks", {"url": url, "event_types": event_types, **fields}, content_type="application/json"
    )


def act(client: Client, path: str) -> Any:
    return client.post(path, content_type="application/json")


def relay(*, now: Any = None) -> None:
    outbox_relay(now=now)


def test_an_order_event_reaches_the_endpoint_signed_and_the_log_shows_it(
    hooks, endpoint, partner_a, api_client_for, floor, stock_in
) -> None:
    created = create(hooks, endpoint.url, ["order.*"], description="Our ERP")
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    assert created.json()["secret_hint"] == secret[-4:]
    stock_in(ProductFactory(organization=partner_a, sku="TEE"), 5)
    orders = api_client_for(partner_a, scopes=["orders:write"])
    assert orders.post("/api/v1/orders", order_body(), content_type="application/json").status_code == 201

    relay()

    assert endpoint.received, "the order's events were sent"
    headers, body = endpoint.received[0]
    verified = Webhook(secret).verify(body, headers)
    assert verified["type"] == "order.created"
    assert headers["webhook-signature"].startswith("v1,")
    webhook_id = created.json()["id"]
    log = hooks.get(f"/api/v1/webhooks/{webhook_id}/deliveries").json()["items"]
    assert {item["event_type"] for item in log} >= {"order.created"}
    attempt = log[0]["attempts"][0]
    assert (log[0]["status"], attempt["status_code"], attempt["error"]) == ("delivered", 200, "")
    assert attempt["duration_ms"] >= 0
    assert secret not in hooks.get(f"/api/v1/webhooks/{webhook_id}").content.decode()  # shown once


def test_a_family_covers_types_declared_after_the_subscription() -> None:
    assert topic_covers("shipment.*", "shipment.created")
    assert topic_covers("order.*", "order.delivered")
    assert not topic_covers("order.*", "orders.created")
    assert not topic_covers("order.*", "inventory.level_changed")


def test_the_fan_out_matches_a_stored_family_for_any_type_of_it(hooks, endpoint, partner_a) -> None:
    webhook_id = create(hooks, endpoint.url, ["product.*"]).json()["id"]
    subscription = Subscription.objects.get(pk=webhook_id)
    assert list(subscription.topics.values_list("event_type", flat=True)) == ["product.*"]
    product = ProductFactory(organization=partner_a)

    domain_event_record(type=PRODUCT_UPDATED, organization=partner_a, aggregate=product, payload=_payload(product))

    assert EventDelivery.objects.filter(subscription=subscription).count() == 1


def test_a_failing_endpoint_is_retried_for_a_day_then_failed_disabled_and_its_owners_mailed(
    hooks, endpoint, partner_a, member
) -> None:
    owner = member(partner_a, Role.OWNER, email="owner@brand-a.example")
    member(partner_a, Role.VIEWER, email="viewer@brand-a.example")
    webhook_id = create(hooks, endpoint.url, ["product.*"]).json()["id"]
    endpoint.answers.extend([(500, {})] * (len(WEBHOOK_RETRY_SCHEDULE) + 1))
    product = ProductFactory(organization=partner_a)
    event = domain_event_record(
        type=PRODUCT_UPDATED, organization=partner_a, aggregate=product, payload=_payload(product)
    )
    delivery = EventDelivery.objects.get(event=event, subscription_id=webhook_id)
    now = timezone.now()
    waits = []

    for _ in range(len(WEBHOOK_RETRY_SCHEDULE)):
        relay(now=now)
        delivery.refresh_from_db()
        waits.append(delivery.next_attempt_at - now)
        relay(now=delivery.next_attempt_at - timedelta(seconds=1))  # not due yet: nothing is sent
        now = delivery.next_attempt_at
    relay(now=now)

    assert waits == list(WEBHOOK_RETRY_SCHEDULE)
    assert sum(waits, timedelta()) >= timedelta(hours=24)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert len(endpoint.received) == len(WEBHOOK_RETRY_SCHEDULE) + 1
    assert [a.status_code for a in delivery.attempt_log.all()] == [500] * (len(WEBHOOK_RETRY_SCHEDULE) + 1)
    shown = hooks.get(f"/api/v1/webhooks/{webhook_id}").json()
    assert shown["status"] == "disabled"
    assert "No delivery succeeded since" in shown["disabled_reason"]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [owner.user.email]
    assert endpoint.url in message.subject
    assert f"/portal/webhooks/{webhook_id}/" in message.body
    assert "Re-enable" in message.body
    assert AuditEntry.objects.filter(action="webhook.disabled", object_id=str(webhook_id)).exists()

    # Disabled: new events are not owed to it; re-enabled and replayed, the failed one arrives.
    domain_event_record(type=PRODUCT_UPDATED, organization=partner_a, aggregate=product, payload=_payload(product))
    assert EventDelivery.objects.filter(subscription_id=webhook_id).count() == 1
    assert act(hooks, f"/api/v1/webhooks/{webhook_id}/resume").json()["status"] == "active"
    replayed = act(hooks, f"/api/v1/webhooks/{webhook_id}/deliveries/{delivery.pk}/replay")
    assert replayed.status_code == 200, replayed.content
    assert replayed.json()["status"] == "pending"
    relay()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempt_log.count() == len(WEBHOOK_RETRY_SCHEDULE) + 2


def test_an_endpoint_that_recovers_within_the_day_is_not_disabled(hooks, endpoint, partner_a) -> None:
    webhook_id = create(hooks, endpoint.url, ["product.*"]).json()["id"]
    endpoint.answers.extend([(500, {}), (500, {})])
    product = ProductFactory(organization=partner_a)
    domain_event_record(type=PRODUCT_UPDATED, organization=partner_a, aggregate=product, payload=_payload(product))
    now = timezone.now()

    relay(now=now)
    relay(now=now + timedelta(hours=1))
    relay(now=now + timedelta(hours=2))

    subscription = Subscription.objects.get(pk=webhook_id)
    assert (subscription.status, subscription.failing_since) == ("active", None)


def test_a_replayed_delivery_and_a_test_event_are_sent_and_logged(hooks, endpoint, partner_a) -> None:
    created = create(hooks, endpoint.url, ["product.updated"]).json()
    endpoint.answers.append((410, {}))  # final: no retry
    product = ProductFactory(organization=partner_a)
    domain_event_record(type=PRODUCT_UPDATED, organization=partner_a, aggregate=product, payload=_payload(product))
    relay()
    failed = hooks.get(f"/api/v1/webhooks/{created['id']}/deliveries").json()["items"][0]
    assert (failed["status"], failed["attempts"][0]["status_code"]) == ("failed", 410)

    assert act(hooks, f"/api/v1/webhooks/{created['id']}/deliveries/{failed['id']}/replay").status_code == 200
    tested = act(hooks, f"/api/v1/webhooks/{created['id']}/test")
    relay()

    assert tested.status_code == 202
    log = {
        item["event_type"]: item for item in hooks.get(f"/api/v1/webhooks/{created['id']}/deliveries").json()["items"]
    }
    assert log["product.updated"]["status"] == "delivered"
    assert [a["status_code"] for a in log["product.updated"]["attempts"]] == [410, 200]
    assert log["webhook.test"]["status"] == "delivered"
    verified = Webhook(created["secret"]).verify(endpoint.received[-1][1], endpoint.received[-1][0])
    assert verified["type"] == "webhook.test"
    replay_again = act(hooks, f"/api/v1/webhooks/{created['id']}/deliveries/{failed['id']}/replay")
    assert replay_again.status_code == 409


def test_after_a_rotation_both_secrets_sign_for_a_day(hooks, endpoint, partner_a) -> None:
    created = create(hooks, endpoint.url, ["product.*"]).json()
    rotated = act(hooks, f"/api/v1/webhooks/{created['id']}/rotate-secret")
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new != created["secret"]
    assert rotated.json()["secret_hint"] == new[-4:]

    assert act(hooks, f"/api/v1/webhooks/{created['id']}/test").status_code == 202
    relay()

    headers, body = endpoint.received[-1]
    assert len(headers["webhook-signature"].split()) == 2
    Webhook(new).verify(body, headers)
    Webhook(created["secret"]).verify(body, headers)


def test_pause_resume_update_and_delete(hooks, endpoint, partner_a) -> None:
    webhook_id = create(hooks, endpoint.url, ["product.updated"]).json()["id"]
    product = ProductFactory(organization=partner_a)

    assert act(hooks, f"/api/v1/webhooks/{webhook_id}/pause").json()["status"] == "paused"
    assert act(hooks, f"/api/v1/webhooks/{webhook_id}/test").status_code == 409
    domain_event_record(type=PRODUCT_UPDATED, organization=partner_a, aggregate=product, payload=_payload(product))
    assert not EventDelivery.objects.filter(subscription_id=webhook_id).exists()
    assert act(hooks, f"/api/v1/webhooks/{webhook_id}/resume").json()["status"] == "active"
    changed = hooks.patch(
        f"/api/v1/webhooks/{webhook_id}",
        {"event_types": ["inventory.*", "order.created"], "description": "Stock app"},
        content_type="application/json",
    )
    assert changed.json()["event_types"] == ["inventory.*", "order.created"]
    assert changed.json()["url"] == endpoint.url
    assert act(hooks, f"/api/v1/webhooks/{webhook_id}/test").status_code == 202

    assert hooks.delete(f"/api/v1/webhooks/{webhook_id}").status_code == 204

    assert hooks.get(f"/api/v1/webhooks/{webhook_id}").status_code == 404
    assert hooks.get("/api/v1/webhooks").json() == []
    kept = Subscription.objects.get(pk=webhook_id)
    assert (kept.status, kept.secret) == ("deleted", "")
    assert kept.deliveries.get().status == DeliveryStatus.FAILED  # the test event, owed when deleted
    actions = set(AuditEntry.objects.filter(object_id=str(webhook_id)).values_list("action", flat=True))
    assert actions >= {"webhook.created", "webhook.paused", "webhook.resumed", "webhook.updated", "webhook.deleted"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://hooks.example.com/allied", "event_types": ["order.*"]}, "url"),
        ({"url": "https://10.0.0.5/allied", "event_types": ["order.*"]}, "url"),
        ({"url": "https://user:pw@hooks.example.com/", "event_types": ["order.*"]}, "url"),
        ({"url": "https://hooks.example.com/allied", "event_types": ["order.shipped_to_mars"]}, "event_types"),
        ({"url": "https://hooks.example.com/allied", "event_types": ["webhook.test"]}, "event_types"),
        ({"url": "https://hooks.example.com/allied", "event_types": ["*"]}, "event_types"),
        ({"url": "https://hooks.example.com/allied", "event_types": []}, "event_types"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_stores_nothing(hooks, body, field) -> None:
    response = hooks.post("/api/v1/webhooks", body, content_type="application/json")

    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]
    assert not Subscription.objects.filter(kind=Subscription.Kind.WEBHOOK).exists()


def test_plain_http_to_this_machine_only_where_the_setting_allows_it(hooks, settings) -> None:
    settings.ALLIED_WEBHOOKS_ALLOW_LOCAL_HTTP = False

    response = create(hooks, "http://127.0.0.1:9/hooks", ["order.*"])

    assert response.status_code == 422


def test_a_partner_cannot_see_or_touch_another_partners_endpoints(
    hooks, endpoint, partner_a, partner_b, api_client_for
) -> None:
    theirs, _ = subscription_create(
        organization=partner_b, url="https://b.example.com/hooks", event_types=["order.*"], actor=Actor.system()
    )
    with transaction.atomic():
        product = ProductFactory(organization=partner_b)
        domain_event_record(type=PRODUCT_UPDATED, organization=partner_b, aggregate=product, payload=_payload(product))
    mine = create(hooks, endpoint.url, ["product.*"]).json()["id"]

    assert [item["id"] for item in hooks.get("/api/v1/webhooks").json()] == [mine]
    for method, path in [
        ("get", f"/api/v1/webhooks/{theirs.pk}"),
        ("get", f"/api/v1/webhooks/{theirs.pk}/deliveries"),
        ("post", f"/api/v1/webhooks/{theirs.pk}/pause"),
        ("post", f"/api/v1/webhooks/{theirs.pk}/rotate-secret"),
        ("post", f"/api/v1/webhooks/{theirs.pk}/test"),
        ("delete", f"/api/v1/webhooks/{theirs.pk}"),
    ]:
        assert getattr(hooks, method)(path, content_type="application/json").status_code == 404, path
    assert not EventDelivery.objects.filter(subscription_id=mine).exists()  # B's product event is not A's
    theirs.refresh_from_db()
    assert theirs.status == "active"


def test_a_key_without_the_scope_is_refused(partner_a, api_client_for) -> None:
    client = api_client_for(partner_a, scopes=["orders:read"])

    assert client.get("/api/v1/webhooks").status_code == 403
    assert create(client, "https://hooks.example.com/", ["order.*"]).status_code == 403


def test_the_hand_rolled_check_in_the_docs_verifies_a_delivery(hooks, endpoint) -> None:
    """docs/api.md: HMAC-SHA256 over `id.timestamp.body`, keyed with the base64 after `whsec_`."""
    created = create(hooks, endpoint.url, ["order.*"]).json()
    act(hooks, f"/api/v1/webhooks/{created['id']}/test")
    relay()
    headers, body = endpoint.received[0]

    key = base64.b64decode(created["secret"].removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()

    offered = [part.split(",", 1)[1] for part in headers["webhook-signature"].split() if part.startswith("v1,")]
    assert any(hmac.compare_digest(expected, signature) for signature in offered)
    assert abs(time.time() - int(headers["webhook-timestamp"])) < 300
    assert json.loads(body)["id"] == headers["webhook-id"]
