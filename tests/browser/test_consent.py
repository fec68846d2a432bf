"""The cookie banner and the cookie settings page in headless Chromium: refusing and accepting
(with and without JavaScript), Global Privacy Control, changing the choice later, and axe-core
on a laptop and a 390 px phone. Run with ALLIED_BROWSER_SHOTS=/tmp/consent-shots to keep the
screenshots."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core import signing
from playwright.sync_api import Browser, BrowserContext, Page, expect

from allied.privacy.consent import COOKIE_NAME, COOKIE_SALT
from allied.privacy.models import ConsentRecord
from tests.browser.test_login_and_accessibility import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NECESSARY_COOKIES = {"sessionid", "csrftoken", COOKIE_NAME}
SIZES = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def context_for(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    contexts: list[BrowserContext] = []

    def make(size: str = "laptop", **options: Any) -> BrowserContext:
        if size == "phone":
            options |= {"is_mobile": True, "has_touch": True}
        context = browser.new_context(viewport=SIZES[size], **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def consent_cookie(context: BrowserContext) -> dict[str, Any]:
    [cookie] = [c for c in context.cookies() if c["name"] == COOKIE_NAME]
    assert cookie["sameSite"] == "Lax"
    assert cookie["httpOnly"] is True
    return signing.loads(cookie["value"], salt=COOKIE_SALT)


def cookie_names(context: BrowserContext) -> set[str]:
    return {c["name"] for c in context.cookies()}


def test_refusing_in_the_banner_saves_without_a_page_load(page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/track/")
    banner = page.get_by_role("region", name="Cookies on this site")
    expect(banner).to_be_visible()
    assert COOKIE_NAME not in cookie_names(page.context)
    page.evaluate("window.loadedOnce = true")

    banner.get_by_role("button", name="Reject all").click()

    expect(page.get_by_role("status")).to_contain_text("only strictly necessary cookies are used")
    assert page.evaluate("window.loadedOnce") is True  # htmx answered in place
    assert page.evaluate("document.activeElement.id") == "consent-banner"
    assert cookie_names(page.context) <= NECESSARY_COOKIES
    cookie = consent_cookie(page.context)
    assert (cookie["p"], cookie["a"], cookie["s"]) == (False, False, "banner")
    record = ConsentRecord.objects.get()
    assert (record.preferences, record.analytics) == (False, False)

    page.reload()
    expect(page.get_by_role("button", name="Accept all")).to_have_count(0)


def test_accepting_in_the_banner_puts_the_choice_in_the_cookie(page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/")

    page.get_by_role("button", name="Accept all").click()

    expect(page.get_by_role("status")).to_contain_text("Your cookie choice is saved")
    cookie = consent_cookie(page.context)
    assert (cookie["p"], cookie["a"]) == (True, True)
    assert ConsentRecord.objects.get().analytics is True


def test_choosing_categories_in_the_banner(page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/")

    page.get_by_text("Choose", exact=True).click()
    page.get_by_role("checkbox", name="Analytics").check()
    expect(page.get_by_role("checkbox", name="Strictly necessary (always on)")).to_be_disabled()
    page.get_by_role("button", name="Save my choices").click()

    expect(page.get_by_role("status")).to_contain_text("Your cookie choice is saved")
    cookie = consent_cookie(page.context)
    assert (cookie["p"], cookie["a"]) == (False, True)


def test_the_banner_works_without_javascript(context_for: Callable[..., BrowserContext], live_server: Any) -> None:
    page = context_for(java_script_enabled=False).new_page()
    page.goto(f"{live_server.url}/track/")

    page.get_by_role("button", name="Reject all").click()

    page.wait_for_url(f"{live_server.url}/track/")
    expect(page.get_by_role("region", name="Cookies on this site")).to_have_count(0)
    assert consent_cookie(page.context)["a"] is False
    assert ConsentRecord.objects.get().source == "banner"


def test_with_gpc_no_question_is_asked_and_no_optional_cookie_set(
    context_for: Callable[..., BrowserContext], live_server: Any, screenshot: Callable[..., None]
) -> None:
    page = context_for(extra_http_headers={"Sec-GPC": "1"}).new_page()

    page.goto(f"{live_server.url}/")

    banner = page.get_by_role("region", name="Cookies on this site")
    expect(banner).to_contain_text("Global Privacy Control signal, and we honour it")
    expect(page.get_by_role("button", name="Accept all")).to_have_count(0)
    expect(page.get_by_role("button", name="Reject all")).to_have_count(0)
    screenshot(page, "consent-gpc")
    assert cookie_names(page.context) <= NECESSARY_COOKIES
    assert consent_cookie(page.context)["s"] == "gpc"

    page.goto(f"{live_server.url}/track/")
    expect(banner).to_have_count(0)
    assert ConsentRecord.objects.get().source == "gpc"


def test_the_cookie_settings_page_changes_the_choice(page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/")
    page.get_by_role("button", name="Reject all").click()
    expect(page.get_by_role("status")).to_be_visible()

    page.get_by_role("contentinfo").get_by_role("link", name="Cookie settings").click()
    page.wait_for_url(f"{live_server.url}/privacy/cookies")
    expect(page.get_by_text("refused all optional cookies")).to_be_visible()
    page.get_by_role("checkbox", name="Preferences").check()
    page.get_by_role("button", name="Save my choices").click()

    page.wait_for_url(f"{live_server.url}/privacy/cookies?saved=1")
    expect(page.get_by_role("status")).to_have_text("Your choice is saved.")
    expect(page.get_by_text("allowed preferences cookies only")).to_be_visible()
    cookie = consent_cookie(page.context)
    assert (cookie["p"], cookie["a"], cookie["s"]) == (True, False, "settings")
    assert list(ConsentRecord.objects.order_by("id").values_list("source", flat=True)) == ["banner", "settings"]


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_the_banner_and_the_settings_page_pass_axe(
    size: str, context_for: Callable[..., BrowserContext], live_server: Any, screenshot: Callable[..., None]
) -> None:
    page = context_for(size).new_page()
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("region", name="Cookies on this site")).to_be_visible()
    screenshot(page, f"consent-banner-{size}")
    assert_accessible(page, f"home with the cookie banner ({size})")

    page.get_by_text("Choose", exact=True).click()
    expect(page.get_by_role("checkbox", name="Preferences")).to_be_visible()
    screenshot(page, f"consent-banner-choose-{size}")
    assert_accessible(page, f"home with the banner's categories open ({size})")

    page.goto(f"{live_server.url}/privacy/cookies")
    screenshot(page, f"consent-settings-{size}")
    assert_accessible(page, f"cookie settings ({size})")
