"""Signing in through the real pages in headless Chromium, and axe-core on the pages people see first."""

import time
from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from allied.accounts.models import Membership
from allied.accounts.roles import Role
from tests.accounts.factories import PASSWORD
from tests.conftest import current_totp_code, enable_totp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING_IMPACTS = {"serious", "critical"}


def fresh_totp_code(secret: str) -> str:
    """The current code, waiting for the next 30-second window when this one is about to close."""
    if time.time() % 30 > 25:
        time.sleep(30.5 - time.time() % 30)
    return current_totp_code(secret)


def submit_password(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/2fa/authenticate/")


def submit_code(page: Page, secret: str) -> None:
    page.get_by_label("Code").fill(fresh_totp_code(secret))
    page.get_by_role("button", name="Sign in").click()


def sign_in(page: Page, base_url: str, membership: Membership) -> str:
    """Signs the member in with password and TOTP; returns the path the browser lands on."""
    secret = enable_totp(membership.user)
    submit_password(page, base_url, membership.user.email)
    submit_code(page, secret)
    page.wait_for_url(lambda url: "/accounts/" not in url)
    return page.url.removeprefix(base_url)


def blocking_violations(page: Page) -> list[dict[str, Any]]:
    violations = Axe().run(page).response["violations"]
    return [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node.get('failureSummary', '').strip()}")
    return "\n".join(lines)


def assert_accessible(page: Page, name: str) -> None:
    violations = blocking_violations(page)
    assert not violations, f"axe-core found serious or critical problems on the {name} page:\n{describe(violations)}"


def test_partner_owner_signs_in_with_totp_and_lands_on_the_portal(
    page: Page, live_server: Any, partner_a: Any, member: Callable[..., Membership], screenshot: Callable[..., None]
) -> None:
    owner = member(partner_a, Role.OWNER)
    secret = enable_totp(owner.user)

    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Allied")
    screenshot(page, "login")
    page.get_by_label("Email").fill(owner.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/accounts/2fa/authenticate/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-Factor Authentication")
    screenshot(page, "2fa")
    page.get_by_label("Code").fill(fresh_totp_code(secret))
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(f"{live_server.url}/portal/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Partner A")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Overview")
    screenshot(page, "portal")


def test_wrong_totp_code_keeps_the_partner_on_the_code_page(
    page: Page, live_server: Any, partner_a: Any, member: Callable[..., Membership]
) -> None:
    owner = member(partner_a, Role.OWNER)
    secret = enable_totp(owner.user)
    submit_password(page, live_server.url, owner.user.email)
    wrong = f"{(int(fresh_totp_code(secret)) + 1) % 1_000_000:06d}"

    page.get_by_label("Code").fill(wrong)
    page.get_by_role("button", name="Sign in").click()

    expect(page.locator(".errorlist")).to_contain_text("Incorrect code")
    assert page.url == f"{live_server.url}/accounts/2fa/authenticate/"
    page.goto(f"{live_server.url}/portal/")
    assert page.url.startswith(f"{live_server.url}/accounts/"), "a half-finished sign-in must not reach the portal"
    expect(page.get_by_role("heading", name="Partner A")).to_have_count(0)


def test_operator_admin_signs_in_with_totp_and_reaches_the_console(
    page: Page, live_server: Any, operator_org: Any, member: Callable[..., Membership], screenshot: Callable[..., None]
) -> None:
    admin = member(operator_org, Role.ADMIN)

    landed_on = sign_in(page, live_server.url, admin)

    assert landed_on == "/ops/"
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good day")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Audit log")
    screenshot(page, "console")


def test_login_and_code_pages_have_no_serious_accessibility_violations(
    page: Page, live_server: Any, partner_a: Any, member: Callable[..., Membership]
) -> None:
    owner = member(partner_a, Role.OWNER)
    secret = enable_totp(owner.user)

    page.goto(f"{live_server.url}/accounts/login/")
    assert_accessible(page, "login")

    submit_password(page, live_server.url, owner.user.email)
    assert_accessible(page, "two-factor code")

    page.get_by_label("Code").fill("000000" if fresh_totp_code(secret) != "000000" else "111111")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".errorlist")).to_be_visible()
    assert_accessible(page, "two-factor code (with an error)")


def test_public_home_has_no_serious_accessibility_violations(page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("link", name="Client sign-in").first).to_be_visible()
    assert_accessible(page, "public home")


def test_portal_has_no_serious_accessibility_violations(
    page: Page, live_server: Any, partner_a: Any, member: Callable[..., Membership]
) -> None:
    sign_in(page, live_server.url, member(partner_a, Role.OWNER))
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)

    page.goto(f"{live_server.url}/portal/")

    assert_accessible(page, "portal")
    assert page.evaluate("typeof htmx") == "object", "htmx did not load (blocked by the content security policy?)"
    assert not console_errors, f"the portal logged errors in the browser console: {console_errors}"


def test_console_has_no_serious_accessibility_violations(
    page: Page, live_server: Any, operator_org: Any, partner_a: Any, member: Callable[..., Membership]
) -> None:
    sign_in(page, live_server.url, member(operator_org, Role.ADMIN))
    page.goto(f"{live_server.url}/ops/")
    expect(page.get_by_role("link", name="Partner A")).to_be_visible()
    assert_accessible(page, "console")


def test_portal_fits_a_phone_screen(
    page: Page, live_server: Any, partner_a: Any, member: Callable[..., Membership], screenshot: Callable[..., None]
) -> None:
    sign_in(page, live_server.url, member(partner_a, Role.OWNER))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/portal/")
    screenshot(page, "portal-390")

    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the portal scrolls sideways by {overflow}px on a 390px-wide phone"
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert_accessible(page, "portal (phone width)")
