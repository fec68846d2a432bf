"""A connection's health, its check, its set-up in the store and "resync now": through the API an
integrator's script uses and the page a partner uses, against the WooCommerce fake."""

import json

import pytest
from django.test import Client

from allied.core.models import AuditEntry
from allied.integrations.models import Connection, InboxMessage, InboxStatus
from allied.integrations.services.sync import connection_compare
from allied.orders.models import Order
from allied.orders.services.intake import order_take_in
from tests.catalog.factories import ProductFactory
from tests.fakes.woocommerce import START, django_target
from tests.fakes.woocommerce import fake_woocommerce as fake_woocommerce  # the fixture
from tests.orders.factories import order_input
from tests.worker import run_until_quiet

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(partner_a, api_client_for):
    return api_client_for(partner_a, scopes=["integrations:manage"])


@pytest.fixture
def woo(api, fake_woocommerce) -> dict:
    body = {
        "kind": "woocommerce",
        "name": "Kohsar Woo",
        "store_url": fake_woocommerce.store_url,
        "credentials": fake_woocommerce.credentials,
    }
    created = api.post("/api/v1/connections", json.dumps(body), content_type="application/json")
    assert created.status_code == 201, created.content
    return created.json()


def post(api, path: str):
    return api.post(path, content_type="application/json")


def test_check_and_set_up_through_the_api(api, woo, fake_woocommerce) -> None:
    checked = post(api, f"/api/v1/connections/{woo['id']}/check")
    set_up = post(api, f"/api/v1/connections/{woo['id']}/setup")
    again = post(api, f"/api/v1/connections/{woo['id']}/setup")

    assert checked.json() == {"ok": True, "message": f"The store answered: {fake_woocommerce.site_title}."}
    assert set_up.status_code == 200
    assert set_up.json()["ok"], set_up.content
    assert again.json()["ok"]
    hooks = list(fake_woocommerce.webhooks.values())
    assert sorted(hook["topic"] for hook in hooks) == ["order.created", "order.deleted", "order.updated"]
    assert {hook["delivery_url"] for hook in hooks} == {woo["webhook_url"]}
    connection = Connection.objects.get(pk=woo["id"])
    assert connection.set_up_at is not None
    assert set(connection.remote["webhook_ids"]) == {"order.created", "order.deleted", "order.updated"}
    assert api.get(f"/api/v1/connections/{woo['id']}").json()["set_up_at"] is not None
    assert AuditEntry.objects.filter(action="integration.set_up").count() == 2


def test_a_failing_check_is_an_answer_not_an_error_and_shows_in_the_health(api, woo, fake_woocommerce) -> None:
    fake_woocommerce.credentials = {**fake_woocommerce.credentials, "consumer_secret": "cs_revoked"}

    checked = post(api, f"/api/v1/connections/{woo['id']}/check")
    health = api.get(f"/api/v1/connections/{woo['id']}/health").json()

    assert checked.status_code == 200
    assert checked.json()["ok"] is False
    assert "401" in checked.json()["message"]
    assert "401" in health["last_check_error"]
    assert health["last_check_at"] is not None


def test_a_paused_connection_cannot_be_checked_or_resynced(api, woo) -> None:
    post(api, f"/api/v1/connections/{woo['id']}/pause")

    for action in ("check", "setup", "resync"):
        refused = post(api, f"/api/v1/connections/{woo['id']}/{action}")
        assert refused.status_code == 409, (action, refused.content)
        assert refused["Content-Type"].startswith("application/problem+json")


def test_resync_fetches_a_dropped_order_and_compares_the_store_with_allied(
    partner_a, api, woo, fake_woocommerce, floor, stock_in, system_actor, settings
) -> None:
    settings.ALLIED_STOCK_PUSH_SECONDS = 0
    stock_in(ProductFactory(organization=partner_a, sku="TEE-BLK-M"), 10)
    fake_woocommerce.add_product("TEE-BLK-M", stock=0)
    Connection.objects.filter(pk=woo["id"]).update(poll_checkpoint=START)
    dropped = fake_woocommerce.create_order(deliver=False)  # WooCommerce never retries a lost webhook
    unknown = fake_woocommerce.create_order(lines=[("NOT-IN-ALLIED", 1, "900.00")], deliver=False)
    # An order Allied holds for this channel that the store does not list (deleted there, say).
    order_take_in(
        organization=partner_a,
        data=order_input(("TEE-BLK-M", 1), channel="woocommerce", external_id="999999"),
        actor=system_actor,
    )

    queued = post(api, f"/api/v1/connections/{woo['id']}/resync?stock=true")
    run_until_quiet()
    health = api.get(f"/api/v1/connections/{woo['id']}/health").json()

    assert queued.status_code == 202
    assert Order.objects.filter(channel="woocommerce", external_id=str(dropped["id"])).exists()
    held = InboxMessage.objects.get(store_order_id=str(unknown["id"]))
    assert held.status == InboxStatus.REJECTED
    comparison = health["comparison"]
    assert comparison["store_orders"] == 2
    assert comparison["missing_in_allied_count"] == 1
    [missing] = comparison["missing_in_allied"]
    assert missing["store_order_id"] == str(unknown["id"])
    assert "NOT-IN-ALLIED" in missing["reason"]
    assert comparison["missing_in_store"] == [
        {"number": Order.objects.get(external_id="999999").number, "store_order_id": "999999"}
    ]
    assert health["last_poll_error"] == ""
    assert health["stock_pending"] == 0
    assert fake_woocommerce.find_sku("TEE-BLK-M")["stock_quantity"] == 7  # 10, less 2 and 1 for the orders


def test_the_health_page_shows_the_lag_and_its_buttons_work(partner_a, member, woo, fake_woocommerce) -> None:
    fake_woocommerce.target = django_target(Client())
    owner = member(partner_a)
    browser = Client()
    browser.force_login(owner.user)
    page = f"/portal/integrations/{woo['id']}/"

    set_up = browser.post(page, {"action": "set_up"}, follow=True)
    fake_woocommerce.create_order()  # delivered to Allied, waiting for the worker
    shown = browser.get(page).content.decode()

    assert "Webhooks subscribed: 3." in set_up.content.decode()
    assert "1 waiting, the oldest for" in shown
    assert "Resync now" in shown
    resynced = browser.post(page, {"action": "resync"}, follow=True).content.decode()
    assert "Reconciliation queued" in resynced
    run_until_quiet()
    compared = browser.get(page).content.decode()
    assert "none: nothing waits" in compared
    assert "In the store, not in Allied (1)" in compared  # no stock of TEE-BLK-M: held with its reason
    assert connection_compare(connection_id=woo["id"])["missing_in_allied_count"] == 1
