"""Data-subject requests in headless Chromium: the public form's errors as a person sees them
(nothing stored), the codes, the download, and the privacy officer's console; axe-core on each
page at a laptop's and a phone's width."""

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from allied.accounts.roles import Role
from allied.privacy.models import DataSubjectRequest
from tests.browser.test_login_and_accessibility import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(WIDTHS))
def sized_page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[str, Page]]:
    context = browser.new_context(viewport=WIDTHS[request.param], accept_downloads=True)
    context.set_default_timeout(15_000)
    yield request.param, context.new_page()
    context.close()


def _fits(page: Page, width: str, name: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], (
        f"{name} scrolls sideways at {width} width"
    )


def test_bad_input_shows_clear_errors_and_stores_nothing(
    sized_page: tuple[str, Page], live_server: Any, screenshot: Callable[..., None]
) -> None:
    width, page = sized_page
    page.goto(f"{live_server.url}/privacy/requests/new")
    assert_accessible(page, f"request form ({width})")
    _fits(page, width, "the request form")

    page.get_by_label("Correct my data").check()
    page.get_by_label("E-mail address").fill("not an address")
    page.get_by_label("Phone number").fill("12")
    page.get_by_role("button", name="Send me the code").click()

    expect(page.get_by_text("is not a valid e-mail address")).to_be_visible()
    expect(page.get_by_text("is not a valid phone number")).to_be_visible()
    expect(page.get_by_text("Say what is wrong and what it should be.")).to_be_visible()
    assert_accessible(page, f"request form with errors ({width})")
    screenshot(page, f"privacy-request-errors-{width}")
    assert not DataSubjectRequest.objects.exists()
    assert not mail.outbox


def test_a_person_confirms_with_the_code_and_downloads_their_data(
    sized_page: tuple[str, Page], live_server: Any, screenshot: Callable[..., None]
) -> None:
    width, page = sized_page
    page.goto(f"{live_server.url}/privacy/requests/new")
    page.get_by_label("See and download my data").check()
    page.get_by_label("E-mail address").fill("zubaida@example.com")
    page.get_by_role("button", name="Send me the code").click()
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    assert_accessible(page, f"code page ({width})")
    screenshot(page, f"privacy-request-code-{width}")

    code = re.search(r"Your code is (\d{6})", mail.outbox[-1].body).group(1)
    page.get_by_label("Code from the e-mail").fill(code)
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_text("Your data is ready to download.")).to_be_visible()
    assert_accessible(page, f"request page ({width})")
    _fits(page, width, "the request page")
    screenshot(page, f"privacy-request-done-{width}")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download my data")).click()
    assert download.value.suggested_filename.endswith(".zip")


def test_the_privacy_officer_works_an_erasure_from_the_console(
    sized_page: tuple[str, Page], live_server: Any, operator_org: Any, member: Any, screenshot: Callable[..., None]
) -> None:
    width, page = sized_page
    made = DataSubjectRequest.objects.create(
        kind="deletion", source="website", email="leaving@example.com", status="open"
    )
    sign_in(page, live_server.url, member(operator_org, Role.PRIVACY_OFFICER))

    page.goto(f"{live_server.url}/ops/privacy/")
    assert_accessible(page, f"privacy dashboard ({width})")
    _fits(page, width, "the privacy dashboard")
    screenshot(page, f"privacy-dashboard-{width}")
    page.get_by_role("link", name="Erase my data").click()
    assert_accessible(page, f"request detail ({width})")
    screenshot(page, f"privacy-request-detail-{width}")
    page.get_by_role("button", name="Erase the person's data").click()

    expect(page.get_by_text("Done: the request is closed and the person is told.")).to_be_visible()
    made.refresh_from_db()
    assert made.status == "done"


def test_a_signed_in_person_reads_what_allied_holds_about_them(
    sized_page: tuple[str, Page], live_server: Any, partner_a: Any, member: Any, screenshot: Callable[..., None]
) -> None:
    width, page = sized_page
    owner = member(partner_a, Role.OWNER, email="reader@example.com")
    sign_in(page, live_server.url, owner)

    page.goto(f"{live_server.url}/me/data/")

    expect(page.get_by_role("heading", name="Accounts: profile")).to_be_visible()
    expect(page.get_by_text("reader@example.com").first).to_be_visible()
    assert_accessible(page, f"your data ({width})")
    _fits(page, width, "your data")
    screenshot(page, f"privacy-my-data-{width}")
