"""`allied integrations backfill` as an operator runs it for a new connection's history."""

import json

import pytest

from allied.accounts.policy import Actor
from allied.integrations.models import Connection, ConnectionKind, InboxMessage
from allied.integrations.services.connections import connection_create
from allied.orders.models import Order
from tests.catalog.factories import ProductFactory
from tests.fakes.woocommerce import START
from tests.fakes.woocommerce import fake_woocommerce as fake_woocommerce  # the fixture
from tests.processes import run_allied
from tests.worker import run_until_quiet

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def woo(partner_a, fake_woocommerce, floor, stock_in) -> Connection:
    stock_in(ProductFactory(organization=partner_a, sku="TEE-BLK-M"), 50)
    return connection_create(
        organization=partner_a,
        kind=ConnectionKind.WOOCOMMERCE,
        name="Kohsar Woo",
        store_url=fake_woocommerce.store_url,
        credentials=fake_woocommerce.credentials,
        actor=Actor.system("tests"),
    )


def backfill(fake, *args: str):
    origins = json.dumps({fake.store_url: fake.origin})
    return run_allied("integrations", "backfill", *args, ALLIED_API_ORIGINS=origins)


def test_backfill_takes_in_the_history_once_with_a_progress_bar(woo, fake_woocommerce) -> None:
    history = [fake_woocommerce.create_order(deliver=False) for _ in range(23)]

    first = backfill(fake_woocommerce, "--connection", str(woo.pk), "--since", START.date().isoformat(), "--progress")
    run_until_quiet()
    again = backfill(fake_woocommerce, "--connection", str(woo.pk), "--since", START.date().isoformat())

    assert first.returncode == 0, first.stderr
    assert "23 order(s) fetched" in first.stdout
    assert "23 new state(s) queued" in first.stdout
    assert "WooCommerce Kohsar Woo: 1 page(s), 23 order(s) fetched, 23 new" in first.stdout  # the progress bar
    assert again.returncode == 0, again.stderr
    assert "0 new state(s) queued for the worker (23 already known)" in again.stdout
    taken_in = set(Order.objects.filter(channel="woocommerce").values_list("external_id", flat=True))
    assert taken_in == {str(order["id"]) for order in history}
    woo.refresh_from_db()
    assert woo.poll_checkpoint is None  # a backfill leaves the reconciliation checkpoint alone


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--connection", "999999", "--since", "2026-01-01"], "no connection 999999"),
        (["--since", "2026-01-01", "--connection"], "expected one argument"),
        (["--connection", "{pk}", "--since", "last week"], "not a date"),
        (["--connection", "{pk}", "--since", "2999-01-01"], "in the future"),
    ],
)
def test_backfill_refuses_bad_input_and_stores_nothing(woo, fake_woocommerce, args, error) -> None:
    fake_woocommerce.create_order(deliver=False)

    result = backfill(fake_woocommerce, *[arg.format(pk=woo.pk) for arg in args])

    assert result.returncode == 2
    assert error in result.stderr
    assert not InboxMessage.objects.exists()
