"""A partner's store connection page in headless Chromium, against the WooCommerce fake delivering
its webhooks over HTTP to the live server: test and set up the store, watch the lag, process a held
delivery again once its cause is fixed, resync, and read the page on a laptop and on a phone."""

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from allied.accounts.models import Membership
from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.integrations.models import Connection, ConnectionKind, InboxMessage, InboxStatus
from allied.integrations.services.connections import connection_create
from allied.orders.models import Order
from tests.browser.test_login_and_accessibility import assert_accessible, sign_in
from tests.catalog.factories import ProductFactory
from tests.fakes.woocommerce import START, FakeWooCommerce
from tests.fakes.woocommerce import fake_woocommerce as fake_woocommerce  # the fixture
from tests.worker import run_until_quiet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UNKNOWN_SKU = "SCARF-BLU"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def owner(partner_a: Any, member: Callable[..., Membership]) -> Membership:
    return member(partner_a, Role.OWNER)


@pytest.fixture
def woo(
    partner_a: Any, owner: Membership, fake_woocommerce: FakeWooCommerce, live_server: Any, settings: Any
) -> Connection:
    """A WooCommerce connection to the fake, whose webhooks reach the live server over HTTP."""
    settings.ALLIED_BASE_URL = live_server.url
    settings.ALLIED_STOCK_PUSH_SECONDS = 0
    return connection_create(
        organization=partner_a,
        kind=ConnectionKind.WOOCOMMERCE,
        name="Kohsar Woo",
        store_url=fake_woocommerce.store_url,
        credentials=fake_woocommerce.credentials,
        actor=Actor(user=owner.user, organization=partner_a, role=owner.role),
    )


def open_connection(page: Page, base_url: str, owner: Membership, connection: Connection) -> str:
    sign_in(page, base_url, owner)
    url = f"{base_url}/portal/integrations/{connection.pk}/"
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kohsar Woo")
    return url


def panel(page: Page, heading: str) -> Locator:
    return page.locator("section", has=page.get_by_role("heading", name=heading, exact=True))


def fact(page: Page, heading: str, term: str) -> str:
    """The text of the definition of `term` in the panel under `heading`."""
    return panel(page, heading).locator(f"dt:text-is('{term}') + dd").inner_text().strip()


def rows_of(page: Page, heading: str) -> list[list[str]]:
    rows = panel(page, heading).locator("tbody tr")
    return [[cell.strip() for cell in row.locator("td").all_inner_texts()] for row in rows.all()]


def press(page: Page, button: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()


def set_up_in_the_store(page: Page, fake: FakeWooCommerce) -> None:
    press(page, "Test the connection")
    expect(page.get_by_role("status")).to_have_text(f"The store answered: {fake.site_title}.")
    assert fact(page, "Connection", "Last check").endswith("— fine")
    press(page, "Set up in the store")
    expect(page.get_by_role("status")).to_contain_text("Webhooks subscribed: 3.")
    address = page.locator("dt:text-is('Webhook address') + dd").inner_text().strip()
    topics = sorted(hook["topic"] for hook in fake.webhooks.values())
    assert topics == ["order.created", "order.deleted", "order.updated"]
    assert {hook["delivery_url"] for hook in fake.webhooks.values()} == {address}
    assert fact(page, "Connection", "Set up in the store") != "not yet"


def test_owner_tests_and_sets_up_the_store_then_processes_a_held_delivery_again(
    page: Page,
    live_server: Any,
    partner_a: Any,
    owner: Membership,
    woo: Connection,
    fake_woocommerce: FakeWooCommerce,
    stock_in: Callable[..., None],
    screenshot: Callable[..., None],
) -> None:
    url = open_connection(page, live_server.url, owner, woo)
    expect(panel(page, "Health")).to_be_visible()
    assert fact(page, "Health", "Lag") == "none: nothing waits"
    assert rows_of(page, "Needs a look") == [["Nothing: every delivery was processed."]]

    set_up_in_the_store(page, fake_woocommerce)

    fake_woocommerce.add_product(UNKNOWN_SKU, stock=0)
    store_order_id = str(fake_woocommerce.create_order(lines=[(UNKNOWN_SKU, 1, "2200.00")])["id"])
    assert [delivery.status for delivery in fake_woocommerce.deliveries] == [200], "the live server refused it"
    page.reload()
    assert fact(page, "Health", "Lag").startswith("1 waiting, the oldest for")
    assert fact(page, "Health", "Last webhook") != "none yet"

    run_until_quiet()
    page.reload()
    assert fact(page, "Health", "Lag") == "none: nothing waits"
    assert fact(page, "Health", "On hold or refused") == "1"
    [held] = rows_of(page, "Needs a look")
    assert held[1:4] == ["order.created", store_order_id, f"On hold: lines[0].sku: Unknown SKU '{UNKNOWN_SKU}'."]
    screenshot(page, "health-held")

    stock_in(ProductFactory(organization=partner_a, sku=UNKNOWN_SKU), 5)  # the partner adds the product
    press(page, "Process again")
    expect(page.get_by_role("status")).to_have_text("The delivery will be processed again.")
    run_until_quiet()
    page.goto(url)

    assert rows_of(page, "Needs a look") == [["Nothing: every delivery was processed."]]
    assert fact(page, "Health", "On hold or refused") == "0"
    order = Order.objects.get(organization=partner_a, channel="woocommerce", external_id=store_order_id)
    [latest] = rows_of(page, "Latest deliveries")
    assert latest[1:] == ["order.created", "Processed", order.number]
    link = panel(page, "Latest deliveries").get_by_role("link", name=order.number)
    assert link.get_attribute("href") == f"/portal/orders/{order.pk}/"
    assert InboxMessage.objects.get(connection=woo).status == InboxStatus.PROCESSED
    screenshot(page, "health-replayed")


def test_resync_now_takes_in_a_dropped_order_and_compares_the_store_with_allied(
    page: Page,
    live_server: Any,
    partner_a: Any,
    owner: Membership,
    woo: Connection,
    fake_woocommerce: FakeWooCommerce,
    stock_in: Callable[..., None],
) -> None:
    stock_in(ProductFactory(organization=partner_a, sku="TEE-BLK-M"), 10)
    fake_woocommerce.add_product("TEE-BLK-M", stock=0)
    Connection.objects.filter(pk=woo.pk).update(poll_checkpoint=START)
    dropped = fake_woocommerce.create_order(deliver=False)  # WooCommerce never retries a lost webhook
    url = open_connection(page, live_server.url, owner, woo)
    comparison = panel(page, "Store and Allied compared")
    expect(comparison).to_contain_text("Not compared yet")
    assert fact(page, "Health", "Last reconciliation") == "not yet"

    press(page, "Resync now")
    expect(page.get_by_role("status")).to_have_text("Reconciliation queued: refresh in a moment to see its result.")
    run_until_quiet()
    page.goto(url)

    expect(comparison).to_contain_text("1 store order for Allied, 1 of them in Allied.")
    expect(comparison.get_by_role("heading", name="In the store, not in Allied (0)")).to_be_visible()
    expect(comparison.get_by_role("heading", name="In Allied, not in the store (0)")).to_be_visible()
    assert fact(page, "Health", "Last reconciliation").endswith("ago")
    order = Order.objects.get(organization=partner_a, channel="woocommerce", external_id=str(dropped["id"]))
    assert order.lines.get().product.sku == "TEE-BLK-M"


def test_the_health_page_reads_well_on_a_laptop_and_a_phone(
    page: Page,
    live_server: Any,
    partner_a: Any,
    owner: Membership,
    woo: Connection,
    fake_woocommerce: FakeWooCommerce,
    stock_in: Callable[..., None],
    screenshot: Callable[..., None],
) -> None:
    stock_in(ProductFactory(organization=partner_a, sku="TEE-BLK-M"), 10)
    fake_woocommerce.add_product("TEE-BLK-M", stock=0)
    url = open_connection(page, live_server.url, owner, woo)
    set_up_in_the_store(page, fake_woocommerce)
    taken = fake_woocommerce.create_order()
    held = fake_woocommerce.create_order(lines=[("NOT-IN-ALLIED-LONG-SKU-NAME-0001", 1, "900.00")])
    Connection.objects.filter(pk=woo.pk).update(poll_checkpoint=START)
    press(page, "Resync now")
    run_until_quiet()
    page.goto(url)
    expect(panel(page, "Store and Allied compared")).to_contain_text("In the store, not in Allied (1)")
    # The held order, from its webhook and again from the reconciliation.
    assert {row[2] for row in rows_of(page, "Needs a look")} == {str(held["id"])}
    order = Order.objects.get(organization=partner_a, channel="woocommerce", external_id=str(taken["id"]))
    assert set(panel(page, "Latest deliveries").get_by_role("link").all_inner_texts()) == {order.number}

    screenshot(page, "health-1280")
    assert_accessible(page, "store connection")

    page.set_viewport_size(PHONE)
    page.goto(url)
    screenshot(page, "health-390")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the connection page scrolls sideways by {overflow}px on a 390px-wide phone"
    for button in ("Test the connection", "Set up in the store", "Resync now", "Process again"):
        box = page.get_by_role("button", name=button, exact=True).first.bounding_box()
        assert box is not None, button
        assert 0 <= box["x"] <= box["x"] + box["width"] <= PHONE["width"], f"{button} is off-screen: {box}"
    assert_accessible(page, "store connection (phone width)")
