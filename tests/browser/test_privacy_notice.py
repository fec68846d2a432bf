"""The public privacy notice and its history in headless Chromium, on a phone (390 px) and a
laptop: they read without sideways scrolling and axe-core finds nothing serious or critical; the
privacy officer's editor previews the text live."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, Page, expect

from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.privacy.services.notice import notice_refresh, notice_text_publish
from tests.browser.test_login_and_accessibility import assert_accessible
from tests.conftest import enable_totp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def two_versions(db: None) -> None:
    notice_refresh()
    notice_text_publish(
        text="Allied E-Commerce Solutions stores, packs and delivers for brands.\n\n"
        "Questions about your data: **privacy@allied.example**.",
        actor=Actor.system("tests"),
    )


def _fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "nothing sticks out sideways"


@pytest.mark.parametrize("device", ["phone", "laptop"])
def test_the_notice_and_its_history_read_and_pass_axe(
    device: str,
    request: pytest.FixtureRequest,
    live_server: Any,
    two_versions: None,
    screenshot: Callable[..., None],
) -> None:
    page: Page = request.getfixturevalue("phone" if device == "phone" else "page")

    page.goto(f"{live_server.url}/privacy/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacy notice")
    expect(page.get_by_role("heading", name="Delivering parcels")).to_be_visible()
    expect(page.locator("#last-updated")).to_contain_text("(version 2)")
    _fits(page)
    screenshot(page, f"privacy-notice-{device}")
    assert_accessible(page, f"privacy notice ({device})")

    page.get_by_role("link", name="Earlier versions and what changed").click()
    page.wait_for_url(f"{live_server.url}/privacy/versions/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Every version of the privacy notice")
    expect(page.get_by_text("The introduction and contact text were revised.")).to_be_visible()
    _fits(page)
    screenshot(page, f"privacy-versions-{device}")
    assert_accessible(page, f"privacy notice versions ({device})")

    page.get_by_role("link", name="Version 1").click()
    expect(page.get_by_text("This is an earlier version")).to_be_visible()
    _fits(page)
    screenshot(page, f"privacy-version-1-{device}")
    assert_accessible(page, f"privacy notice version 1 ({device})")


def test_the_officer_sees_the_text_previewed_as_they_type(
    page: Page, live_server: Any, operator_org: Any, member: Callable[..., Any], screenshot: Callable[..., None]
) -> None:
    officer = member(operator_org, Role.PRIVACY_OFFICER)
    enable_totp(officer.user)
    signed_in = Client()
    signed_in.force_login(officer.user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": signed_in.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )

    page.goto(f"{live_server.url}/ops/privacy/notice/")
    page.get_by_label("The operators' text (Markdown)").fill("## Who we are\n\nWe *deliver* parcels. <b>raw</b>")

    preview = page.locator("#notice-preview")
    expect(preview.get_by_role("heading", name="Who we are")).to_be_visible()
    expect(preview.locator("em")).to_have_text("deliver")
    expect(preview).to_contain_text("<b>raw</b>")
    screenshot(page, "privacy-notice-editor")
    assert_accessible(page, "privacy notice editor")
