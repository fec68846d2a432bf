"""The dispatcher board in headless Chromium with OpenStreetMap's tiles blocked: plan a small day,
watch the progress bar give way to the routes, lock, move, publish and place a pin, all without the
map's streets; and read the board on a laptop and on a phone."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.core.address import Address, CoordinatesSource
from allied.core.tracking import TrackingStatus
from allied.delivery.models import DeliveryTask, RouteStatus
from allied.delivery.models import Route as DeliveryRoute
from allied.delivery.services.tasks import delivery_tasks_create, service_day
from allied.delivery.services.tracking import tracking_event_record
from tests.browser.test_login_and_accessibility import assert_accessible, sign_in
from tests.delivery.factories import HubFactory, RiderFactory, ShiftFactory
from tests.delivery.test_tasks_and_planning import stop
from tests.worker import run_until_quiet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
TILES = "https://tile.openstreetmap.org/**"


def press(page: Page, button: Any) -> None:
    with page.expect_navigation():
        button.click()


def route_card(page: Page, number: int) -> Any:
    return page.locator("article.route-card", has=page.get_by_role("heading", name=re.compile(rf"^Route {number}:")))


def test_dispatcher_plans_a_day_and_works_its_routes_with_the_map_tiles_blocked(
    page: Page,
    live_server: Any,
    partner_a: Any,
    operator_org: Any,
    member: Callable[..., Any],
    screenshot: Callable[..., None],
) -> None:
    hub = HubFactory()
    day = service_day(hub)  # the board opens on it: tomorrow once the hub's day is over
    for _ in range(2):  # three parcels each: five stops need both riders
        ShiftFactory(rider=RiderFactory(hub=hub, capacity_parcels=3), date=day)
    system = Actor.system("tests")
    routed = delivery_tasks_create(organization=partner_a, stops=[stop(n, date=day) for n in range(5)], actor=system)
    [lost] = delivery_tasks_create(
        organization=partner_a,
        stops=[stop(0, date=day, address=Address(line1="Behind the mosque", city="Karachi", area="Lyari"))],
        actor=system,
    )
    blocked: list[str] = []

    def no_tiles(request: Route) -> None:
        blocked.append(request.request.url)
        request.abort()

    page.route(TILES, no_tiles)
    sign_in(page, live_server.url, member(operator_org, Role.DISPATCHER))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dispatch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dispatch")
    expect(page.get_by_role("heading", name="Not on a route (6)")).to_be_visible()

    page.get_by_label("Time limit (seconds)").fill("1")
    press(page, page.get_by_role("button", name="Plan the day"))
    expect(page.locator(".messages")).to_contain_text("the routes show when it is done")
    expect(page.get_by_role("progressbar")).to_be_visible()
    expect(page.get_by_text("Plan queued: waiting for a worker")).to_be_visible()
    screenshot(page, "dispatch-planning")

    run_until_quiet()  # the worker plans; the polled progress then reloads the board

    expect(route_card(page, 2)).to_be_visible(timeout=15_000)
    expect(page.get_by_role("progressbar")).to_have_count(0)
    expect(page.get_by_role("button", name="Re-plan the day")).to_be_visible()
    expect(page.get_by_text("Re-planning keeps locked routes")).to_be_visible()
    expect(page.get_by_role("heading", name="Not on a route (1)")).to_be_visible()
    expect(page.get_by_text("no coordinates: place a pin")).to_be_visible()
    for task in routed:
        expect(page.locator("ol.stops code", has_text=task.tracking_code)).to_have_count(1)
    expect(page.locator(".stop-marker")).to_have_count(5)  # the map is drawn, streets or not
    assert blocked, "the map asked for tiles, and got none"
    expect(page.locator("#map-note")).to_be_visible()
    screenshot(page, "dispatch-routes")
    assert_accessible(page, "dispatcher board")

    first = route_card(page, 1)
    press(page, first.get_by_role("button", name="Lock"))
    expect(route_card(page, 1).get_by_text("Locked", exact=True)).to_be_visible()

    first = route_card(page, 1)
    moving = first.locator("ol.stops li").first.locator("code").inner_text()
    first.get_by_label(f"Move {moving} to another route").select_option(
        index=1
    )  # the first route other than its own: route 2
    press(page, first.locator("ol.stops li").first.get_by_role("button", name="Move"))
    expect(page.locator(".messages")).to_contain_text(f"{moving} moved to the end of")
    expect(route_card(page, 2).locator("code", has_text=moving)).to_be_visible()

    press(page, route_card(page, 2).get_by_role("button", name="Publish"))
    expect(route_card(page, 2).get_by_text("Published", exact=True)).to_be_visible()

    page.get_by_text("Place a pin", exact=True).click()
    page.get_by_role("button", name="Pick on the map").click()
    expect(page.locator("#pin-hint")).to_contain_text("Click the map where")
    page.locator("#dispatch-map").click(position={"x": 120, "y": 120})
    expect(page.get_by_label("Latitude")).not_to_have_value("")
    press(page, page.get_by_role("button", name="Save the pin"))
    expect(page.locator(".messages")).to_contain_text(f"Pin placed for {lost.tracking_code}")

    lost.refresh_from_db()
    assert lost.address_coordinates_source == CoordinatesSource.PIN
    assert lost.address_lat is not None
    assert DeliveryTask.objects.get(tracking_code=moving).route.rider != DeliveryRoute.objects.get(locked=True).rider
    assert DeliveryRoute.objects.filter(status=RouteStatus.PUBLISHED).count() == 1
    screenshot(page, "dispatch-after-actions")

    page.set_viewport_size(PHONE)
    page.reload()
    expect(route_card(page, 1)).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the board is {width}px wide on a {PHONE['width']}px phone"
    screenshot(page, "dispatch-phone")
    assert_accessible(page, "dispatcher board on a phone")


def test_the_board_works_without_the_map_script(
    page: Page, live_server: Any, partner_a: Any, operator_org: Any, member: Callable[..., Any]
) -> None:
    hub = HubFactory()
    ShiftFactory(rider=RiderFactory(hub=hub), date=service_day(hub))
    [task] = delivery_tasks_create(
        organization=partner_a, stops=[stop(0, date=service_day(hub))], actor=Actor.system("tests")
    )
    page.route("**/vendor/leaflet/leaflet*.js", lambda request: request.abort())
    page.route(TILES, lambda request: request.abort())
    sign_in(page, live_server.url, member(operator_org, Role.DISPATCHER))
    page.goto(f"{live_server.url}/ops/dispatch/")

    page.get_by_label("Time limit (seconds)").fill("1")
    press(page, page.get_by_role("button", name="Plan the day"))
    run_until_quiet()
    expect(route_card(page, 1)).to_be_visible(timeout=15_000)
    expect(route_card(page, 1).locator("code", has_text=task.tracking_code)).to_be_visible()
    expect(page.locator(".leaflet-container")).to_have_count(0)


def test_a_partner_works_its_failed_deliveries_on_a_phone(
    page: Page, live_server: Any, partner_a: Any, member: Callable[..., Any], screenshot: Callable[..., None]
) -> None:
    HubFactory()
    system = Actor.system("tests")
    [task] = delivery_tasks_create(organization=partner_a, stops=[stop(0)], actor=system)
    tracking_event_record(task=task, status=TrackingStatus.OUT_FOR_DELIVERY, actor=system)
    tracking_event_record(task=task, status=TrackingStatus.ATTEMPT_FAILED, actor=system, reason="Recipient not home")
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, member(partner_a, Role.OWNER))
    page.goto(f"{live_server.url}/portal/failed-deliveries/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Failed deliveries")
    expect(page.get_by_text("Recipient not home")).to_be_visible()

    page.get_by_text("Correct the address or phone").click()
    page.get_by_label("Phone").fill("12")
    press(page, page.get_by_role("button", name="Save the correction"))
    expect(page.get_by_text("is not a valid phone number")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the queue is {width}px wide on a {PHONE['width']}px phone"
    screenshot(page, "failed-deliveries-phone")
    assert_accessible(page, "failed deliveries")

    press(page, page.get_by_role("button", name="Return to sender"))
    expect(page.locator(".messages")).to_contain_text(f"{task.tracking_code} goes back to its sender.")
    expect(page.get_by_text("No failed deliveries")).to_be_visible()
