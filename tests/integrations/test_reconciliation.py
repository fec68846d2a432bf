"""Reconciliation: a store's webhook that never came is caught by polling its API, once."""

import pytest

from allied.accounts.policy import Actor
from allied.core.worker import HeartbeatWorker
from allied.integrations.models import Connection, ConnectionKind, InboxMessage, InboxStatus
from allied.integrations.services.connections import connection_create
from allied.integrations.services.sync import connection_poll, connections_due_for_poll
from allied.orders.models import Order
from tests.catalog.factories import ProductFactory
from tests.fakes.woocommerce import START
from tests.fakes.woocommerce import fake_woocommerce as fake_woocommerce  # the fixture

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def woo(partner_a, member, fake_woocommerce, floor, stock_in) -> Connection:
    stock_in(ProductFactory(organization=partner_a, sku="TEE-BLK-M"), 10)
    membership = member(partner_a)
    owner = Actor(user=membership.user, organization=partner_a, role=membership.role)
    connection = connection_create(
        organization=partner_a,
        kind=ConnectionKind.WOOCOMMERCE,
        name="Kohsar Woo",
        store_url=fake_woocommerce.store_url,
        credentials=fake_woocommerce.credentials,
        actor=owner,
    )
    Connection.objects.filter(pk=connection.pk).update(poll_checkpoint=START)
    return connection


def run_tasks() -> None:
    HeartbeatWorker(batch=True, interval=0).run()


def test_an_order_whose_webhook_was_dropped_becomes_an_allied_order_at_the_next_poll(woo, fake_woocommerce) -> None:
    dropped = fake_woocommerce.create_order(deliver=False)
    assert woo.pk in connections_due_for_poll()

    result = connection_poll(connection_id=woo.pk)
    run_tasks()

    assert (result.fetched, result.kept) == (1, 1)
    order = Order.objects.get(channel="woocommerce", external_id=str(dropped["id"]))
    assert [(line.product.sku, line.quantity) for line in order.lines.all()] == [("TEE-BLK-M", 2)]
    woo.refresh_from_db()
    assert woo.last_poll_at is not None
    assert woo.last_poll_error == ""
    assert woo.poll_checkpoint is not None
    assert woo.poll_checkpoint > START
    assert woo.pk not in connections_due_for_poll()


def test_polling_again_and_a_late_webhook_leave_one_order(woo, fake_woocommerce) -> None:
    fake_woocommerce.create_order(deliver=False)
    connection_poll(connection_id=woo.pk)
    again = connection_poll(connection_id=woo.pk)
    run_tasks()

    assert again.kept == 0  # the same state of the same order is already in the inbox
    assert Order.objects.filter(channel="woocommerce").count() == 1
    assert InboxMessage.objects.filter(status=InboxStatus.PROCESSED).count() == 1


def test_a_store_that_cannot_be_reached_is_recorded_for_the_health_page(woo, fake_woocommerce, settings) -> None:
    settings.ALLIED_API_ORIGINS = {woo.store_url: "http://127.0.0.1:9"}

    with pytest.raises(Exception, match="could not be reached"):
        connection_poll(connection_id=woo.pk)

    woo.refresh_from_db()
    assert "could not be reached" in woo.last_poll_error
    assert woo.poll_checkpoint == START  # nothing skipped: the next poll starts where this one did
