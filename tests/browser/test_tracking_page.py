"""The public tracking page in headless Chromium, on a phone (390 px) and a laptop: the journey
reads, a recipient changes the delivery with the code texted to them, and axe-core finds nothing
serious or critical."""

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from allied.accounts.policy import Actor
from allied.core.address import Address
from allied.core.tracking import TrackingStatus
from allied.delivery.models import DeliveryTask, TaskKind
from allied.delivery.services.tasks import TaskInput, delivery_tasks_create
from allied.delivery.services.tracking import tracking_event_record
from allied.orders.tracking import tracking_code_generate
from tests.browser.test_login_and_accessibility import assert_accessible
from tests.delivery.factories import HubFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME, STREET = "Zarghuna Qizilbash", "House 77-Q, Xylophone Lane"


@pytest.fixture
def stop(partner_a: Any) -> DeliveryTask:
    partner_a.name = "Zephyr Shoes"
    partner_a.save()
    HubFactory()
    [task] = delivery_tasks_create(
        organization=partner_a,
        stops=[
            TaskInput(
                kind=TaskKind.DROP_OFF,
                hub_code="KHI-H1",
                date=timezone.localdate(),
                address=Address.given(
                    line1=STREET, area="PECHS", city="Karachi", lat=Decimal("24.87"), lng=Decimal("67.06")
                ),
                contact_name=NAME,
                contact_phone="0300 7654321",
            )
        ],
        actor=Actor.system("dispatch"),
    )
    for status in (TrackingStatus.OUT_FOR_DELIVERY, TrackingStatus.ATTEMPT_FAILED):
        tracking_event_record(task=task, status=status, actor=Actor.system("dispatch"))
    DeliveryTask.objects.filter(pk=task.pk).update(planned_arrival=timezone.now() + timedelta(hours=2))
    return task


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.mark.parametrize("device", ["phone", "laptop"])
def test_the_tracking_page_reads_on_a_phone_and_a_laptop(
    device: str,
    request: pytest.FixtureRequest,
    live_server: Any,
    stop: DeliveryTask,
    screenshot: Callable[..., None],
) -> None:
    page: Page = request.getfixturevalue("phone" if device == "phone" else "page")

    page.goto(f"{live_server.url}/track/")
    page.get_by_label("Tracking code").fill(stop.tracking_code.lower())
    page.get_by_role("button", name="Track").click()

    page.wait_for_url(f"{live_server.url}/track/{stop.tracking_code}")
    expect(page.get_by_role("heading", level=1)).to_have_text("We could not deliver it")
    expect(page.locator(".timeline li")).to_have_count(3)
    expect(page.get_by_text("Zephyr Shoes")).to_be_visible()
    assert NAME not in page.content()
    assert STREET not in page.content()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "nothing sticks out sideways"
    screenshot(page, f"track-{device}")
    assert_accessible(page, f"tracking ({device})")

    page.goto(f"{live_server.url}/track/{tracking_code_generate()}")
    expect(page.get_by_role("heading", level=1)).to_have_text("We could not find that parcel")
    screenshot(page, f"track-not-found-{device}")
    assert_accessible(page, f"tracking, not found ({device})")


def test_a_recipient_moves_the_delivery_with_the_texted_code(
    phone: Page, live_server: Any, stop: DeliveryTask, screenshot: Callable[..., None], caplog: Any
) -> None:
    caplog.set_level("INFO", logger="allied.sms")
    phone.goto(f"{live_server.url}/track/{stop.tracking_code}")

    phone.get_by_role("link", name="Change the delivery").click()
    assert_accessible(phone, "change the delivery")
    phone.get_by_role("button", name="Send me a code").click()
    expect(phone.get_by_label("The 6-digit code from the SMS")).to_be_visible()
    screenshot(phone, "track-code")
    assert_accessible(phone, "the code")
    code = re.search(r"(\d{6}) is your code", caplog.text).group(1)
    phone.get_by_label("The 6-digit code from the SMS").fill(code)
    phone.get_by_role("button", name="Continue").click()

    expect(phone.get_by_role("heading", name="Another day")).to_be_visible()
    screenshot(phone, "track-change")
    assert_accessible(phone, "the changes")
    phone.get_by_label("House, street and building").fill("House 5, Street 9")
    phone.get_by_label("Postcode").fill("75$00")
    phone.get_by_role("button", name="Save the address").click()
    expect(phone.locator(".errorlist").first).to_be_visible()
    screenshot(phone, "track-change-errors")
    assert_accessible(phone, "the changes, with errors")
    phone.get_by_label("New delivery day").select_option(index=1)
    phone.get_by_role("button", name="Move the delivery").click()

    expect(phone.get_by_role("status")).to_contain_text("Done: your parcel will come on the day you chose.")
    stop.refresh_from_db()
    assert stop.status == TrackingStatus.RESCHEDULED
