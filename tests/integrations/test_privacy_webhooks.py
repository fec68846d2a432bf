"""Shopify's mandatory privacy webhooks through their door (signed), answered by the privacy engine
for that partner's records only; and the inbox's kept bodies exported and erased for a person."""

import json
from typing import Any

import pytest

from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.core.models import AuditEntry
from allied.core.privacy import DataSubject, subject_erase, subject_export
from allied.integrations.models import REDACTED_BODY, Connection, ConnectionKind, InboxMessage, InboxStatus
from allied.integrations.services.connections import connection_create
from allied.integrations.services.inbox import inbox_message_replay
from allied.orders.models import Order, OrderStatus
from allied.orders.services.intake import order_receive
from allied.orders.services.lifecycle import order_cancel
from allied.privacy.models import DataSubjectRequest
from tests.catalog.factories import ProductFactory
from tests.integrations.test_store_webhooks import CLIENT_SECRET, deliver, run_tasks, shopify_order
from tests.orders.factories import order_input

pytestmark = pytest.mark.django_db(transaction=True)

SYSTEM = Actor.system("tests")


@pytest.fixture
def stocked(partner_a, partner_b, stock_in) -> None:
    for organization in (partner_a, partner_b):
        for sku in ("TEE-BLK-M", "CAP-RED"):
            stock_in(ProductFactory(organization=organization, sku=sku), 20)


def customer_order(order_id: int, email: str = "jon@example.com", phone: str = "0300 1112233") -> dict[str, Any]:
    order = shopify_order(order_id, email=email)
    order["shipping_address"]["phone"] = phone
    return order


def closed_shopify_order(shop: Connection, order_id: int, **who: str) -> Order:
    """An order taken in from the shop and then cancelled there: closed, so an erasure reaches it."""
    deliver(shop, "orders/create", customer_order(order_id, **who))
    deliver(shop, "orders/cancelled", customer_order(order_id, **who) | {"cancelled_at": "2026-12-05T11:00:00Z"})
    run_tasks()
    order = Order.objects.get(external_id=str(order_id))
    assert order.status == OrderStatus.CANCELLED
    return order


def closed_order_at(organization: Any, **who: str) -> Order:
    intake = order_receive(organization=organization, data=order_input(("CAP-RED", 1), **who), actor=SYSTEM)
    return order_cancel(order=intake.order, reason="Changed their mind", actor=SYSTEM)


def data_request(**customer: Any) -> dict[str, Any]:
    return {
        "shop_id": 954889,
        "shop_domain": "kohsar.myshopify.com",
        "orders_requested": [299938, 280263],
        "customer": {"id": 191167, **customer},
        "data_request": {"id": 9999},
    }


def customers_redact(orders: list[int], **customer: Any) -> dict[str, Any]:
    return {
        "shop_id": 954889,
        "shop_domain": "kohsar.myshopify.com",
        "customer": {"id": 191167, **customer},
        "orders_to_redact": orders,
    }


def erased(order: Order) -> bool:
    order.refresh_from_db()
    return (order.recipient_name, order.recipient_phone, order.recipient_email, order.address_line1) == (
        "erased",
        "",
        "",
        "erased",
    )


def test_a_data_request_opens_an_access_request_of_that_partner_for_the_privacy_officer(
    shop, partner_a, operator_org, member, client_for
) -> None:
    response = deliver(shop, "customers/data_request", data_request(email="Jon@Example.com", phone="0300 1112233"))
    run_tasks()

    assert response.status_code == 200
    made = DataSubjectRequest.objects.get()
    assert (made.kind, made.status, made.source, made.organization, made.email, made.phone, made.store_reference) == (
        "access",
        "open",
        "store",
        partner_a,
        "jon@example.com",
        "+923001112233",
        "customers/data_request:9999",
    )
    message = InboxMessage.objects.get()
    assert (message.status, str(made.public_id) in message.reason) == (InboxStatus.PROCESSED, True)
    officer = client_for(member(operator_org, Role.PRIVACY_OFFICER))
    assert f"/ops/privacy/requests/{made.public_id}/" in officer.get("/ops/privacy/").content.decode()


def test_customers_redact_erases_that_partners_closed_orders_and_kept_bodies_and_nothing_else(
    shop, partner_a, partner_b, stocked
) -> None:
    redacted_order = closed_shopify_order(shop, 1001)
    deliver(shop, "orders/create", customer_order(1002))  # Jon's parcel still on its way
    neighbour = closed_shopify_order(shop, 1003, email="sara@example.com", phone="0321 4445566")
    elsewhere = closed_order_at(partner_b, recipient_email="jon@example.com", recipient_phone="+923001112233")
    run_tasks()

    response = deliver(shop, "customers/redact", customers_redact([1001], email="jon@example.com", phone="03001112233"))
    run_tasks()

    assert response.status_code == 200
    assert erased(redacted_order)
    still_open = Order.objects.get(external_id="1002")
    assert (still_open.recipient_email, still_open.recipient_phone) == ("jon@example.com", "+923001112233")
    assert not erased(neighbour)
    assert not erased(elsewhere), "another partner's records are not this store's to erase"
    made = DataSubjectRequest.objects.get()
    assert (made.kind, made.status, made.organization, made.store_reference) == (
        "deletion",
        "done",
        partner_a,
        "customers/redact:191167",
    )
    assert made.result["orders"] == 1
    bodies = dict(InboxMessage.objects.values_list("store_order_id", "body").filter(topic="orders/cancelled"))
    assert bodies["1001"] == REDACTED_BODY
    assert "sara@example.com" in bodies["1003"]
    redact = InboxMessage.objects.get(topic="customers/redact")
    assert (redact.status, redact.body) == (InboxStatus.PROCESSED, REDACTED_BODY)


def test_a_redelivered_redaction_makes_no_second_request_and_changes_nothing(shop, stocked) -> None:
    payload = customers_redact([1001], email="jon@example.com", phone="+92 300 1112233")
    closed_shopify_order(shop, 1001)
    deliver(shop, "customers/redact", payload, event_id="redact-event-1")
    run_tasks()
    erasures = AuditEntry.objects.filter(action="privacy.erased").count()
    closed_shopify_order(shop, 1002)  # Jon ordered again after the erasure

    again = deliver(shop, "customers/redact", payload, event_id="redact-event-1")
    resent = deliver(shop, "customers/redact", payload, event_id="redact-event-2")
    run_tasks()

    assert (again.status_code, resent.status_code) == (200, 200)
    assert DataSubjectRequest.objects.count() == 1
    assert AuditEntry.objects.filter(action="privacy.erased").count() == erasures
    assert not erased(Order.objects.get(external_id="1002"))
    assert REDACTED_BODY not in InboxMessage.objects.filter(store_order_id="1002").values_list("body", flat=True)
    assert InboxMessage.objects.filter(topic="customers/redact").count() == 2


def test_shop_redact_erases_every_customer_of_that_shop_as_one_request(shop, partner_a, partner_b, stocked) -> None:
    jon = closed_shopify_order(shop, 2001)
    sara = closed_shopify_order(shop, 2002, email="sara@example.com", phone="0321 4445566")
    by_api = closed_order_at(partner_a, recipient_email="ali@example.com", recipient_phone="+923334445566")
    elsewhere = closed_order_at(partner_b, recipient_email="jon@example.com", recipient_phone="+923001112233")

    deliver(shop, "shop/redact", {"shop_id": 954889, "shop_domain": "kohsar.myshopify.com"})
    deliver(shop, "shop/redact", {"shop_id": 954889, "shop_domain": "kohsar.myshopify.com"})
    run_tasks()

    assert erased(jon)
    assert erased(sara)
    assert not erased(by_api), "only the customers of this channel"
    assert not erased(elsewhere)
    made = DataSubjectRequest.objects.get()
    assert (made.kind, made.status, made.organization, made.store_reference) == (
        "deletion",
        "done",
        partner_a,
        "shop/redact:954889",
    )
    assert (made.result["people"], made.result["orders"]) == (2, 2)
    order_bodies = InboxMessage.objects.filter(topic__startswith="orders/").values_list("body", flat=True)
    assert set(order_bodies) == {REDACTED_BODY}
    assert (
        list(InboxMessage.objects.filter(topic="shop/redact").values_list("status", flat=True))
        == [InboxStatus.PROCESSED] * 2
    )


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("customers/redact", {"shop_id": 954889, "shop_domain": "kohsar.myshopify.com"}, "names no customer"),
        ("customers/redact", customers_redact([1001], id=None), "neither the customer's e-mail nor their phone"),
        ("customers/data_request", data_request(email="", phone="not a phone"), "phone 'not a phone' cannot be read"),
        ("customers/data_request", data_request(email="jon@example.com") | {"data_request": {}}, "no data_request id"),
        ("shop/redact", {"shop_domain": ""}, "names no shop"),
    ],
)
def test_a_privacy_webhook_that_cannot_be_read_is_rejected_and_erases_nothing(
    shop, stocked, topic, payload, reason
) -> None:
    order = closed_shopify_order(shop, 1001)

    response = deliver(shop, topic, payload)
    run_tasks()

    assert response.status_code == 200  # authentic: kept and answered, with the reason shown to the partner
    message = InboxMessage.objects.get(topic=topic)
    assert message.status == InboxStatus.REJECTED
    assert reason in message.reason
    assert not DataSubjectRequest.objects.exists()
    assert not erased(order)
    assert not InboxMessage.objects.filter(body=REDACTED_BODY).exists()


def test_an_unreadable_phone_is_dropped_and_the_email_still_finds_the_customer(shop) -> None:
    deliver(shop, "customers/data_request", data_request(email="jon@example.com", phone="call me"))
    run_tasks()

    made = DataSubjectRequest.objects.get()
    assert (made.email, made.phone) == ("jon@example.com", "")


def test_kept_bodies_are_exported_without_their_content_and_erased_once_settled(
    shop, partner_a, partner_b, member, stocked
) -> None:
    deliver(shop, "orders/create", customer_order(3001, phone="+92-300-111-2233"))
    run_tasks()
    deliver(shop, "orders/create", customer_order(3002))  # not yet processed
    deliver(shop, "orders/create", customer_order(3003, email="sara@example.com", phone="0321 4445566"))
    owner_b = member(partner_b)
    shop_b = connection_create(
        organization=partner_b,
        kind=ConnectionKind.SHOPIFY,
        name="Other Shopify",
        store_url="other.myshopify.com",
        credentials={"access_token": "shpat_other_token_wxyz", "client_secret": CLIENT_SECRET},
        actor=Actor(user=owner_b.user, organization=partner_b, role=owner_b.role),
    )
    deliver(shop_b, "orders/create", customer_order(4001))
    jon_here = DataSubject(email="", phone="+923001112233", organization_id=partner_a.pk)

    exported = subject_export(subject=jon_here, actor=SYSTEM)["integrations"]["store_deliveries"]
    erased_rows = subject_erase(subject=jon_here, actor=SYSTEM)["integrations"]

    assert [(row["topic"], row["status"]) for row in exported] == [
        ("orders/create", InboxStatus.PROCESSED),
        ("orders/create", InboxStatus.PENDING),
    ]
    assert all(set(row) == {"store", "topic", "received", "status"} for row in exported)
    assert erased_rows == 1
    bodies = dict(InboxMessage.objects.values_list("store_order_id", "body"))
    assert bodies["3001"] == REDACTED_BODY
    assert json.loads(bodies["3002"])["id"] == 3002, "a pending delivery still has to be applied"
    assert "sara@example.com" in bodies["3003"]
    assert json.loads(bodies["4001"])["email"] == "jon@example.com", "another partner's inbox is not reached"


def test_a_delivery_erased_while_on_hold_is_refused_when_replayed(shop, partner_a, owner) -> None:
    deliver(shop, "orders/create", customer_order(5001))  # no stock, no products: put on hold
    run_tasks()
    held = InboxMessage.objects.get()
    assert held.status == InboxStatus.REJECTED

    subject_erase(subject=DataSubject(email="jon@example.com", organization_id=partner_a.pk), actor=SYSTEM)
    inbox_message_replay(message=held, actor=owner)
    run_tasks()

    held.refresh_from_db()
    assert (held.status, held.reason) == (InboxStatus.REJECTED, "The body was erased at a privacy request.")
    assert not Order.objects.exists()


def test_an_erased_rejection_keeps_no_reason_that_quotes_the_delivery(shop, partner_a) -> None:
    deliver(shop, "orders/create", customer_order(5101, phone="call 0300-11-22 after six"))
    run_tasks()
    rejected = InboxMessage.objects.get()
    assert rejected.status == InboxStatus.REJECTED
    assert "0300-11-22" in rejected.reason, "the reason names what could not be read"

    subject_erase(subject=DataSubject(email="jon@example.com", organization_id=partner_a.pk), actor=SYSTEM)

    rejected.refresh_from_db()
    assert (rejected.body, rejected.reason) == (REDACTED_BODY, "The body was erased at a privacy request.")
