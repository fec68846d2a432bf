"""The rider app on a phone-sized headless Chromium: sign in, start the route, lose the network,
deliver one stop and fail another (both wait on the phone, shown as waiting to send), get the
network back, and the server has applied each exactly once while the page shows them done."""

import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from allied.core.tracking import TrackingStatus
from allied.delivery.models import Proof, TrackingEvent, VehicleType
from tests.accounts.factories import PASSWORD
from tests.browser.test_login_and_accessibility import assert_accessible
from tests.delivery.test_rider import RiderDay, rider_day, stop_input

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
S = TrackingStatus
PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def motorbikes(db: None) -> None:
    """Seeded by a migration, and flushed after each test that runs outside a transaction."""
    VehicleType.objects.get_or_create(
        code="motorbike",
        defaults={"name": "Motorbike", "speed_kmh": 22, "capacity_parcels": 30, "capacity_kg": 40},
    )


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, service_workers="allow")
    context.set_default_timeout(15_000)
    yield context
    context.close()


def sign_in(page: Page, base_url: str, day: RiderDay) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(day.rider.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/" not in url)


def stop_card(page: Page, number: int) -> Any:
    return page.locator("[data-run-sheet] > li").nth(number - 1)


def events(day: RiderDay, index: int, status: str) -> int:
    return TrackingEvent.objects.filter(task=day.stops[index], status=status).count()


def assert_fits(page: Page, name: str) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the {name} page scrolls sideways by {overflow}px on a 390px-wide phone"


def test_rider_delivers_and_fails_offline_and_each_action_is_applied_once_when_back_online(
    phone: BrowserContext, live_server: Any, partner_a: Any, screenshot: Callable[..., None]
) -> None:
    day = rider_day(partner_a, [stop_input(0, cod="1500.00"), stop_input(1), stop_input(2)], start=False)
    page = phone.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, live_server.url, day)

    page.goto(f"{live_server.url}/ops/rider/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    expect(page.locator("[data-run-sheet] > li")).to_have_count(3)
    expect(stop_card(page, 1)).to_contain_text("COD Rs 1,500")
    assert_accessible(page, "run sheet")
    assert_fits(page, "run sheet")
    screenshot(page, "rider-run-sheet")

    page.get_by_role("button", name="Start route").click()
    expect(page.get_by_role("status").filter(has_text="Route started")).to_be_visible()
    expect(stop_card(page, 1)).to_contain_text("Out for delivery")
    expect(page.locator("html[data-offline-ready='1']")).to_have_count(1)  # pages kept, worker in control
    assert_accessible(page, "run sheet (started)")
    screenshot(page, "rider-run-sheet-started")

    phone.set_offline(True)
    expect(page.locator("[data-net-status]")).to_have_text("Offline")

    stop_card(page, 1).get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Stop 1 · Drop-off")
    page.locator("details.call summary").click()
    expect(page.get_by_role("link", name="Call +923001112233")).to_be_visible()
    assert_fits(page, "stop")
    screenshot(page, "rider-stop-offline")
    page.get_by_label("Name of the person who took it").fill("Hina Baig")
    page.get_by_label("Cash collected (Rs)").fill("1500")
    page.get_by_role("button", name="Delivered").click()
    page.wait_for_url(re.compile(r".*/ops/rider/$"))
    expect(stop_card(page, 1)).to_contain_text("waiting to send")

    stop_card(page, 2).get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Stop 2 · Drop-off")
    page.get_by_label("Note").fill("Gate locked, no answer")
    screenshot(page, "rider-fail-offline")
    page.get_by_role("button", name="Recipient not home").click()
    page.wait_for_url(re.compile(r".*/ops/rider/$"))
    queue = page.locator("[data-queue]")
    expect(queue).to_be_visible()
    expect(queue.locator("li")).to_have_count(2)
    expect(stop_card(page, 2)).to_contain_text("waiting to send")
    screenshot(page, "rider-queued-offline")
    assert (events(day, 0, S.DELIVERED), events(day, 1, S.ATTEMPT_FAILED)) == (0, 0), "nothing reached the server"

    phone.set_offline(False)

    expect(queue).to_be_hidden()
    expect(stop_card(page, 1).locator("[data-status]")).to_have_text("Delivered")
    expect(stop_card(page, 2).locator("[data-status]")).to_have_text("Delivery attempt failed")
    screenshot(page, "rider-sent")
    assert (events(day, 0, S.DELIVERED), events(day, 1, S.ATTEMPT_FAILED)) == (1, 1)
    proof = Proof.objects.get(task=day.stops[0])
    assert (proof.recipient_name, proof.cod_collected) == ("Hina Baig", Decimal("1500.00"))
    assert TrackingEvent.objects.get(task=day.stops[1], status=S.ATTEMPT_FAILED).reason == (
        "Recipient not home: Gate locked, no answer"
    )

    # The phone lost the answer and sends the same action again: the server answers, changes nothing.
    delivered = TrackingEvent.objects.get(task=day.stops[0], status=S.DELIVERED)
    again = page.request.post(
        f"{live_server.url}/ops/rider/actions",
        data={
            "action": "deliver",
            "stop": str(day.stops[0].public_id),
            "client_action_id": str(delivered.client_action_id),
            "recipient_name": "Hina Baig",
            "cod_collected": "1500",
        },
        headers={"X-CSRFToken": next(c["value"] for c in phone.cookies() if c["name"] == "csrftoken")},
    )
    assert (again.status, again.json()["replayed"]) == (200, True)
    assert (events(day, 0, S.DELIVERED), Proof.objects.filter(task=day.stops[0]).count()) == (1, 1)

    page.reload()
    expect(stop_card(page, 1).locator("[data-status]")).to_have_text("Delivered")
    assert not errors, f"the rider app logged errors in the browser console: {errors}"


def test_the_hand_back_page_shows_the_shortfall_on_a_phone(
    phone: BrowserContext, live_server: Any, partner_a: Any, screenshot: Callable[..., None]
) -> None:
    day = rider_day(partner_a, [stop_input(0, cod="1500.00"), stop_input(1)])
    page = phone.new_page()
    sign_in(page, live_server.url, day)

    page.goto(f"{live_server.url}/ops/rider/hand-back/")
    expect(page.get_by_role("heading", level=1)).to_have_text("End of day: hand back")
    assert_accessible(page, "hand-back")
    screenshot(page, "rider-hand-back")
    page.get_by_label("Cash you hand over (Rs)").fill("0")
    page.get_by_label("Parcels you hand over").fill("1")
    page.get_by_role("button", name="Hand back").click()

    expect(page.get_by_role("heading", name="Recorded, with a difference")).to_be_visible()
    expect(page.locator(".callout.warn")).to_contain_text("1 parcel missing")
    assert_fits(page, "hand-back")
    screenshot(page, "rider-hand-back-done")
