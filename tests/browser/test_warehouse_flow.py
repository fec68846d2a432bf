"""The warehouse floor in headless Chromium: receive, put away, pick, pack and hand over the demo
orders through the pages alone, typing codes into the scan fields the way a USB scanner does."""

import itertools
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import pytest
from playwright.sync_api import Locator, Page, expect

from allied.demo import DEMO_PASSWORD, demo_load
from allied.inventory.models import InboundShipment, InboundStatus
from allied.inventory.selectors import inventory_verify
from allied.orders.models import Order, OrderStatus
from allied.orders.tracking import tracking_code_is_valid

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAREHOUSE_USER = "warehouse@aes.example"
INBOUND = "KOHSAR-PO-002"
SHELF = "A-01-01"
CARRIER, CARRIER_CODE = "TCS", "tcs"
BATCH = 3


def scan(page: Page, field: Locator, code: str) -> None:
    """Types the code into the field and presses Enter, as a scanner does, and waits for the next page."""
    field.fill("")
    field.press_sequentially(code)
    with page.expect_navigation():
        field.press("Enter")


def rows_of(page: Page, heading: str) -> list[list[str]]:
    """The cell texts of the table in the panel under this heading."""
    return table_rows(page.locator("section", has=page.get_by_role("heading", name=heading)).locator("tbody tr"))


def table_rows(rows: Locator) -> list[list[str]]:
    return [[cell.strip() for cell in row.locator("td").all_inner_texts()] for row in rows.all()]


def link_url(page: Page, name: str) -> str:
    """Where the link goes, as an absolute address (page.request shares the browser's session cookie)."""
    return urljoin(page.url, page.get_by_role("link", name=name).get_attribute("href") or "")


def sign_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(WAREHOUSE_USER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/ops/")


def receive_with_one_damaged_unit(page: Page, shot: Callable[[str], None]) -> str:
    """Receives the shipment with the first line one unit short and one unit damaged; returns that SKU."""
    page.get_by_role("link", name="Warehouse", exact=True).click()
    expect(page.get_by_role("link", name="Inbound shipments to receive")).to_contain_text("3")
    shot("warehouse")
    page.get_by_role("link", name="Inbound shipments to receive").click()
    page.get_by_role("row").filter(has_text=INBOUND).get_by_role("link", name="Receive").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(INBOUND)
    first = page.locator("tbody tr").first
    sku = first.locator("td").first.inner_text().strip()
    announced = int(first.locator("td").nth(2).inner_text())
    first.get_by_label(f"Good units of {sku}").fill(str(announced - 2))
    first.get_by_label(f"Damaged units of {sku}").fill("1")
    shot("receive")
    page.get_by_role("button", name="Confirm receipt").click()
    page.wait_for_url("**/ops/put-away/")
    expect(page.get_by_role("status")).to_contain_text(f"{INBOUND} received")
    return sku


def put_away_one_line(page: Page, shot: Callable[[str], None]) -> None:
    waiting = rows_of(page, "Waiting on DOCK-1")
    assert len(waiting) == 6, waiting
    sku, units = waiting[1][0], waiting[1][2]
    expect(page.get_by_label("From bin")).to_have_value("DOCK-1")
    page.get_by_label("Product (scan or type SKU / barcode)").press_sequentially(sku)
    page.get_by_label("Quantity").fill(units)
    to_bin = page.get_by_label("To bin")
    to_bin.press_sequentially(SHELF)
    shot("put-away")
    with page.expect_navigation():
        to_bin.press("Enter")
    expect(page.get_by_role("status")).to_have_text(f"{units} × {sku} put away in {SHELF}.")
    assert [row[0] for row in rows_of(page, "Waiting on DOCK-1")] == [row[0] for row in waiting if row[0] != sku]
    shot("put-away-done")


def pick_everything(page: Page, shot: Callable[[str], None]) -> list[str]:
    """Starts a pick list and scans every unit on it from the bin the page names; returns the order numbers."""
    page.get_by_role("link", name="Warehouse", exact=True).click()
    shot("warehouse-to-pick")
    page.get_by_label("Orders per pick list").fill(str(BATCH))
    page.get_by_role("button", name="Start picking").click()
    page.wait_for_url("**/ops/picking/*/")
    tasks = rows_of(page, "Walk in this order")
    orders = sorted({task[4] for task in tasks})
    assert len(orders) == BATCH, tasks
    assert all(task[0] != "—" for task in tasks), f"units with no bin to pick from: {tasks}"
    units = sum(int(task[3]) for task in tasks)
    shot("pick-list")
    code, bin_field = page.get_by_label("Scan barcode or type SKU"), page.get_by_label("Bin (optional)")
    for _ in range(units):
        expect(code).to_be_focused()
        bin_code, sku, _name, _units, order = rows_of(page, "Walk in this order")[0]
        bin_field.fill(bin_code)
        scan(page, code, sku)
        expect(page.get_by_role("status")).to_have_text(f"Picked 1 × {sku} from {bin_code} for {order}.")
    expect(page.get_by_text("Everything is picked")).to_be_visible()
    assert rows_of(page, "Walk in this order") == [["Nothing left to pick."]]
    shot("picked")
    page.get_by_role("link", name="Go to packing").click()
    return orders


def pack(page: Page, order: str, shot: Callable[[str], None], index: int) -> str:
    """Opens the order by scanning its number, scans every unit, weighs the parcel; returns its tracking code."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Packing")
    assert order in [row[0] for row in rows_of(page, "Picked, ready to pack")]
    shot(f"packing-queue-{index}")
    scan(page, page.get_by_label("Scan the order number"), order)
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Order {order}")
    close = page.get_by_role("button", name="Close parcel and create label")
    expect(close).to_be_disabled()
    for sku, _name, in_parcel, _check in rows_of(page, "Scan each unit into the parcel"):
        for _ in range(int(in_parcel.split("/")[1])):
            scan(page, page.get_by_label("Scan barcode or type SKU"), sku)
    assert all(row[3] == "complete" for row in rows_of(page, "Scan each unit into the parcel"))
    page.get_by_label("Weight (g)").fill(str(400 + 100 * index))
    page.get_by_label("Dimensions (mm, L×W×H)").fill("300×200×100")
    shot(f"pack-{index}")
    close.click()
    expect(page.get_by_role("status")).to_contain_text(f"Parcel closed: {order}")
    tracking = page.locator(".callout.success strong code").inner_text().strip()
    assert tracking_code_is_valid(tracking), tracking
    shot(f"packed-{index}")

    label = page.request.get(link_url(page, "Print label (PDF)"))
    assert (label.status, label.headers["content-type"], label.body()[:5]) == (200, "application/pdf", b"%PDF-")
    assert tracking.encode() in label.body()
    slip = page.request.get(link_url(page, "Packing slip (PDF)"))
    assert (slip.status, slip.body()[:5]) == (200, b"%PDF-")
    page.get_by_role("link", name="Next order").click()
    return tracking


def hand_over(page: Page, tracking_codes: list[str], shot: Callable[[str], None]) -> None:
    page.get_by_role("link", name="Warehouse", exact=True).click()
    page.get_by_role("link", name="Parcels to hand over").click()
    waiting = page.locator("section", has=page.get_by_role("heading", name="Packed parcels waiting"))
    for code in tracking_codes:
        expect(waiting).to_contain_text(code)
    page.get_by_label("Carrier").select_option(label=CARRIER)
    shot("handover")
    page.get_by_role("button", name="Open manifest").click()
    page.wait_for_url("**/ops/handover/*/")
    hand = page.get_by_role("button", name=f"Hand over to {CARRIER}")
    expect(hand).to_be_disabled()
    not_scanned = page.locator("section", has=page.get_by_role("heading", name="Packed, not scanned yet"))
    for index, code in enumerate(tracking_codes):
        expect(not_scanned).to_contain_text(code)
        # The barcode carries no hyphens, and a scanner may type lower case; people type hyphens.
        typed = code.replace("-", "").lower() if index % 2 == 0 else code
        scan(page, page.get_by_label("Scan the parcel's tracking code"), typed)
        expect(page.get_by_role("status")).to_have_text(f"{code} scanned onto the manifest.")
        expect(not_scanned).not_to_contain_text(code)
    expect(page.get_by_role("heading", name=f"{len(tracking_codes)} parcels scanned")).to_be_visible()
    shot("manifest")
    hand.click()
    expect(page.get_by_role("status")).to_have_text(f"{len(tracking_codes)} parcels handed over to {CARRIER}.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Handed over")
    shot("handed-over")


def check_receipt_shows_the_discrepancy(page: Page, sku: str, shot: Callable[[str], None]) -> None:
    page.get_by_role("link", name="Warehouse", exact=True).click()
    page.get_by_role("link", name="Inbound shipments to receive").click()
    page.locator("section", has=page.get_by_role("heading", name="Recently received")).get_by_role(
        "link", name=INBOUND
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Received")
    rows = {row[0]: row[2:] for row in table_rows(page.locator("tbody tr"))}
    announced = int(rows[sku][0])
    assert rows.pop(sku) == [str(announced), str(announced - 1), "1", "-1"]
    assert all(row == [row[0], row[0], "0", "0"] for row in rows.values()), rows
    shot("received")


def test_warehouse_user_receives_picks_packs_and_hands_over_demo_orders_in_the_browser(
    page: Page, live_server: Any, screenshot: Callable[..., None]
) -> None:
    demo_load()

    numbers = itertools.count(1)

    def shot(name: str) -> None:
        screenshot(page, f"warehouse-{next(numbers):02d}-{name}")

    sign_in(page, live_server.url)
    damaged_sku = receive_with_one_damaged_unit(page, shot)
    put_away_one_line(page, shot)
    orders = pick_everything(page, shot)
    tracking_codes = [pack(page, order, shot, index) for index, order in enumerate(orders, start=1)]
    hand_over(page, tracking_codes, shot)
    check_receipt_shows_the_discrepancy(page, damaged_sku, shot)

    handed = Order.objects.filter(number__in=orders)
    assert sorted(handed.values_list("status", "carrier", "tracking_code")) == sorted(
        (OrderStatus.HANDED_OVER, CARRIER_CODE, code) for code in tracking_codes
    )
    inbound = InboundShipment.objects.get(reference=INBOUND)
    assert inbound.status == InboundStatus.RECEIVED
    line = inbound.lines.get(product__sku=damaged_sku)
    assert (line.received_quantity, line.damaged_quantity, line.discrepancy) == (line.expected_quantity - 1, 1, -1)
    assert all(other.discrepancy == 0 for other in inbound.lines.exclude(pk=line.pk))
    assert inventory_verify() == []
