"""The public website in headless Chromium: axe-core on every public page at a laptop's and a phone's
width, and the inquiry form's errors as a visitor sees them."""

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import Browser, Page, expect

from allied.website.models import Lead
from tests.browser.test_login_and_accessibility import assert_accessible
from tests.website.conftest import seed_site_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUBLIC_PATHS = {
    "home": "/",
    "services": "/services/",
    "service": "/last-mile-delivery/",
    "about": "/about/",
    "contact": "/contact/",
    "feedback": "/feedback/",
}
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(autouse=True)
def _site(db: None) -> None:
    cache.clear()
    seed_site_pages()


@pytest.fixture(params=list(WIDTHS))
def sized_page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[str, Page]]:
    context = browser.new_context(viewport=WIDTHS[request.param])
    context.set_default_timeout(15_000)
    yield request.param, context.new_page()
    context.close()


def test_public_pages_pass_axe_on_a_laptop_and_a_phone(
    sized_page: tuple[str, Page], live_server: Any, screenshot: Callable[..., None]
) -> None:
    width, page = sized_page
    for name, path in PUBLIC_PATHS.items():
        page.goto(f"{live_server.url}{path}")
        assert_accessible(page, f"{name} ({width})")
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= page.viewport_size["width"], f"{name} scrolls sideways at {width} width"
        screenshot(page, f"website-{name}-{width}")


def test_the_home_page_tracking_box_opens_the_tracking_page(page: Page, live_server: Any) -> None:
    page.goto(live_server.url)
    page.get_by_label("Tracking code").fill("AES-0000-0000-0000-0")
    page.get_by_role("button", name="Track").click()

    expect(page.get_by_role("heading", name="We could not find that parcel")).to_be_visible()


def test_the_inquiry_form_shows_clear_errors_and_stores_nothing(
    page: Page, live_server: Any, screenshot: Callable[..., None], settings: Any
) -> None:
    settings.ALLIED_FORM_MIN_SECONDS = 0
    page.goto(f"{live_server.url}/contact/")
    page.get_by_label("Your name").fill("Sana Qureshi")
    page.get_by_label("E-mail address").fill("sana@not an address")
    page.get_by_label("Phone (optional)").fill("12")
    page.get_by_role("button", name="Send inquiry").click()

    expect(page.get_by_role("alert")).to_contain_text("Please check the fields marked below")
    expect(page.get_by_text("Enter a valid email address.")).to_be_visible()
    expect(page.get_by_text("This field is required.").first).to_be_visible()
    assert page.get_by_label("Your name").input_value() == "Sana Qureshi", "what was typed stays"
    assert_accessible(page, "contact form with errors")
    screenshot(page, "website-contact-errors")
    assert not Lead.objects.exists()


def test_a_visitor_sends_an_inquiry(page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/contact/")
    page.get_by_label("Your name").fill("Sana Qureshi")
    page.get_by_label("E-mail address").fill("sana@kohsar-crafts.example")
    page.get_by_label("Company or brand (optional)").fill("Kohsar Crafts")
    page.get_by_label("What are you interested in?").select_option("fulfilment")
    page.get_by_label("Your message").fill("We ship 800 orders a month.")
    time.sleep(3.1)  # the time trap: a person takes a few seconds to write
    page.get_by_role("button", name="Send inquiry").click()

    expect(page.get_by_role("heading", name="Thank you: your message reached us")).to_be_visible()
    assert Lead.objects.get().company == "Kohsar Crafts"
