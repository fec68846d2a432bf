"""Packing and handover through the pages, as warehouse staff signed in: carriers are chosen by
code and shown by name, and tracking codes scan with or without hyphens, in any case."""

import base64
import re
import zlib

import pytest

from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.core.models import DomainEvent
from allied.fulfillment.models import Manifest
from allied.orders.models import OrderStatus
from allied.orders.services.intake import order_create
from allied.orders.tracking import tracking_code_is_valid
from tests.catalog.factories import ProductFactory
from tests.fulfillment.test_fulfillment_services import packed
from tests.orders.factories import order_input

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


@pytest.fixture
def packed_order(partner_a, floor, stock_in):
    tee = ProductFactory(organization=partner_a, sku="TEE")
    stock_in(tee, 2)
    order = order_create(organization=partner_a, data=order_input(("TEE", 1)), actor=SYSTEM).order
    packed(floor, order)
    assert tracking_code_is_valid(order.tracking_code)
    return order


@pytest.fixture
def staff(operator_org, member, client_for):
    return client_for(member(operator_org, Role.WAREHOUSE))


def pdf_drawn_text(pdf: bytes) -> str:
    """The text drawn on a ReportLab page: its content streams, ASCII85- and Flate-decoded."""
    streams = re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.DOTALL)
    decoded = (zlib.decompress(base64.a85decode(b"<~" + s.strip(), adobe=True)) for s in streams)
    return "\n".join(text.decode("latin-1") for text in decoded)


def as_scanned(tracking_code: str) -> str:
    """What a scanner set to lower case types from the barcode, which carries no hyphens."""
    return tracking_code.replace("-", "").lower()


def test_packing_queue_finds_a_parcel_by_its_tracking_code_typed_any_way(staff, packed_order) -> None:
    scanned = staff.post("/ops/packing/", {"code": as_scanned(packed_order.tracking_code)})
    spaced = staff.post("/ops/packing/", {"code": packed_order.tracking_code.replace("-", " ").lower()})

    assert scanned.status_code == 302
    assert scanned["Location"] == f"/ops/packing/{packed_order.pk}/"
    assert spaced["Location"] == f"/ops/packing/{packed_order.pk}/"


def test_handover_opens_a_manifest_for_a_carrier_code_and_hands_over_scanned_parcels(
    staff, packed_order, partner_a, member, client_for, api_client_for
) -> None:
    form = staff.get("/ops/handover/").content.decode()
    opened = staff.post("/ops/handover/", {"carrier": "leopards"})
    manifest = Manifest.objects.get()
    scanned = staff.post(f"/ops/handover/{manifest.pk}/", {"code": as_scanned(packed_order.tracking_code)}, follow=True)
    loading = scanned.content.decode()
    closed = staff.post(f"/ops/handover/{manifest.pk}/", {"action": "close"}, follow=True).content.decode()

    assert '<option value="leopards">Leopards Courier</option>' in form
    assert opened["Location"] == f"/ops/handover/{manifest.pk}/"
    assert manifest.carrier == "leopards"
    assert f"{packed_order.tracking_code} scanned onto the manifest." in loading
    assert "Hand over to Leopards Courier" in loading
    assert "1 parcel handed over to Leopards Courier." in closed
    packed_order.refresh_from_db()
    assert (packed_order.status, packed_order.carrier) == (OrderStatus.HANDED_OVER, "leopards")
    event = DomainEvent.objects.get(type="order.handed_over", aggregate_id=str(packed_order.pk))
    assert (event.payload["carrier"], event.payload["tracking_code"]) == ("leopards", packed_order.tracking_code)

    partner_page = client_for(member(partner_a, Role.OWNER)).get(f"/portal/orders/{packed_order.pk}/")
    assert "with Leopards Courier" in partner_page.content.decode()
    label = staff.get(f"/orders/{packed_order.pk}/label.pdf")
    assert label.status_code == 200
    assert "(Leopards Courier " in pdf_drawn_text(label.content)
    assert f"({packed_order.tracking_code}) Tj" in pdf_drawn_text(label.content)
    api = api_client_for(partner_a).get(f"/api/v1/orders/{packed_order.pk}").json()
    assert (api["carrier"], api["carrier_name"], api["tracking_code"]) == (
        "leopards",
        "Leopards Courier",
        packed_order.tracking_code,
    )
    found = api_client_for(partner_a).get("/api/v1/orders", {"search": as_scanned(packed_order.tracking_code)})
    assert [order["id"] for order in found.json()["items"]] == [packed_order.pk]


def test_handover_page_refuses_a_carrier_that_is_not_registered(staff, floor) -> None:
    page = staff.post("/ops/handover/", {"carrier": "TCS"})

    assert page.status_code == 200
    assert "Select a valid choice" in page.content.decode()
    assert not Manifest.objects.exists()


def test_a_code_with_a_typo_is_not_scanned_onto_the_manifest(staff, packed_order) -> None:
    staff.post("/ops/handover/", {"carrier": "tcs"})
    manifest = Manifest.objects.get()
    code = packed_order.tracking_code
    typo = code[:-2] + ("0" if code[-2] != "0" else "1") + code[-1]

    page = staff.post(f"/ops/handover/{manifest.pk}/", {"code": typo}).content.decode()

    assert "Unknown parcel." in page
    assert not manifest.parcels.exists()
