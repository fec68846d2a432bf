import json

import pytest
from reportlab.lib.pagesizes import inch

from allied.accounts.policy import Actor
from allied.core.errors import ValidationFailed
from allied.fulfillment.documents import LABEL_SIZE, packing_slip_pdf, shipping_label_pdf, tracking_barcode
from allied.fulfillment.models import Manifest, ManifestStatus, PickListStatus, ReturnCondition, ReturnStatus
from allied.fulfillment.selectors import pick_tasks
from allied.fulfillment.services import (
    manifest_close,
    manifest_open,
    manifest_scan,
    pick_list_create,
    pick_list_scan,
    return_from_failed_delivery,
    return_receive,
    return_request,
)
from allied.inventory.models import Stock
from allied.inventory.selectors import inventory_verify
from allied.orders.models import OrderStatus
from allied.orders.services.intake import order_create
from allied.orders.services.lifecycle import order_hand_over, order_pack, order_record_delivery
from allied.orders.tracking import tracking_code_generate
from tests.catalog.factories import ProductFactory
from tests.domain import refused
from tests.orders.factories import order_input

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


@pytest.fixture
def two_orders(partner_a, floor, stock_in):
    tee = ProductFactory(organization=partner_a, sku="TEE", barcodes=["8964000000017"])
    cap = ProductFactory(organization=partner_a, sku="CAP")
    stock_in(tee, 3, bin=floor.shelf_b)
    stock_in(cap, 2, bin=floor.shelf_a)
    first = order_create(organization=partner_a, data=order_input(("TEE", 2), ("CAP", 1)), actor=SYSTEM).order
    second = order_create(organization=partner_a, data=order_input(("TEE", 1), ("CAP", 1)), actor=SYSTEM).order
    return first, second


def pick_everything(pick_list) -> None:
    while tasks := pick_tasks(pick_list):
        task = tasks[0]
        pick_list_scan(
            pick_list=pick_list,
            code=task.barcodes[0] if task.barcodes else task.sku,
            bin_code=task.bin_code,
            actor=SYSTEM,
        )


def test_batch_pick_list_walks_bins_in_order_and_closes_when_done(floor, two_orders) -> None:
    first, second = two_orders

    pick_list = pick_list_create(warehouse=floor.warehouse, actor=SYSTEM)
    tasks = pick_tasks(pick_list)

    assert set(pick_list.orders.all()) == {first, second}
    assert [(t.bin_code, t.sku, t.quantity) for t in tasks] == [
        ("A-01-01", "CAP", 1),
        ("A-01-01", "CAP", 1),
        ("B-02-01", "TEE", 2),
        ("B-02-01", "TEE", 1),
    ]
    first.refresh_from_db()
    assert first.status == OrderStatus.PICKING
    pick_everything(pick_list)
    pick_list.refresh_from_db()
    assert pick_list.status == PickListStatus.DONE
    assert inventory_verify() == []


def test_scanning_something_not_on_the_list_is_refused(floor, two_orders, partner_a) -> None:
    ProductFactory(organization=partner_a, sku="SOCKS")
    pick_list = pick_list_create(warehouse=floor.warehouse, actor=SYSTEM)

    wrong_item = refused(lambda: pick_list_scan(pick_list=pick_list, code="SOCKS", actor=SYSTEM))
    wrong_bin = refused(lambda: pick_list_scan(pick_list=pick_list, code="TEE", bin_code="A-01-01", actor=SYSTEM))

    assert "not on this pick list" in wrong_item.detail
    assert "in A-01-01" in wrong_bin.detail


def test_no_allocated_orders_means_no_pick_list(floor) -> None:
    assert "No allocated orders" in refused(lambda: pick_list_create(warehouse=floor.warehouse, actor=SYSTEM)).detail


def packed(floor, order) -> None:
    pick_list = pick_list_create(warehouse=floor.warehouse, orders=[order], actor=SYSTEM)
    pick_everything(pick_list)
    scans = [line.sku for line in order.lines.all() for _ in range(line.quantity)]
    order_pack(order=order, scanned_codes=scans, weight_grams=700, dimensions_mm="300x200x100", actor=SYSTEM)
    order.refresh_from_db()


def test_manifest_hands_over_only_scanned_packed_parcels(floor, two_orders) -> None:
    first, second = two_orders
    packed(floor, first)
    manifest = manifest_open(warehouse=floor.warehouse, carrier="tcs", actor=SYSTEM)

    not_packed = refused(lambda: manifest_scan(manifest=manifest, code=second.number, actor=SYSTEM))
    manifest_scan(manifest=manifest, code=first.tracking_code, actor=SYSTEM)
    manifest_scan(manifest=manifest, code=first.tracking_code, actor=SYSTEM)
    manifest_close(manifest=manifest, actor=SYSTEM)

    assert "not packed" in not_packed.detail
    first.refresh_from_db()
    second.refresh_from_db()
    manifest.refresh_from_db()
    assert (first.status, first.carrier) == (OrderStatus.HANDED_OVER, "tcs")
    assert second.status == OrderStatus.ALLOCATED
    assert manifest.status == ManifestStatus.CLOSED
    assert manifest.parcels.count() == 1
    other = manifest_open(warehouse=floor.warehouse, carrier="mp", actor=SYSTEM)
    assert (
        "already on manifest"
        in refused(lambda: manifest_scan(manifest=other, code=first.tracking_code, actor=SYSTEM)).detail
    )


def test_a_carrier_must_be_registered_to_open_a_manifest_or_take_a_parcel(floor, two_orders) -> None:
    first, _ = two_orders
    packed(floor, first)

    manifest = refused(lambda: manifest_open(warehouse=floor.warehouse, carrier="TCS", actor=SYSTEM))
    hand_over = refused(lambda: order_hand_over(order=first, carrier="Leopards Courier", actor=SYSTEM))

    assert isinstance(manifest, ValidationFailed)
    assert [e.field for e in manifest.errors] == ["carrier"]
    assert "No carrier 'TCS'" in manifest.detail
    assert [e.field for e in hand_over.errors] == ["carrier"]
    assert not Manifest.objects.exists()
    first.refresh_from_db()
    assert (first.status, first.carrier) == (OrderStatus.PACKED, "")


def test_hand_over_stores_the_carrier_code(floor, two_orders) -> None:
    first, _ = two_orders
    packed(floor, first)

    order_hand_over(order=first, carrier="pathao", actor=SYSTEM)

    first.refresh_from_db()
    assert (first.status, first.carrier, first.carrier_name) == (OrderStatus.HANDED_OVER, "pathao", "Pathao")


def test_failed_delivery_returns_and_restocks_through_the_ledger(floor, two_orders) -> None:
    first, _ = two_orders
    packed(floor, first)
    manifest = manifest_open(warehouse=floor.warehouse, carrier="aes_riders", actor=SYSTEM)
    manifest_scan(manifest=manifest, code=first.tracking_code, actor=SYSTEM)
    manifest_close(manifest=manifest, actor=SYSTEM)
    order_record_delivery(order=first, delivered=False, note="nobody home", actor=SYSTEM)
    tee_on_hand = Stock.objects.get(product__sku="TEE").on_hand

    parcel_return = return_from_failed_delivery(order=first, actor=SYSTEM)
    tee_line, cap_line = parcel_return.lines.order_by("order_line__sku").reverse()
    missing = refused(
        lambda: return_receive(parcel_return=parcel_return, conditions={tee_line.pk: "restock"}, actor=SYSTEM)
    )
    return_receive(
        parcel_return=parcel_return,
        conditions={tee_line.pk: ReturnCondition.RESTOCK, cap_line.pk: ReturnCondition.QUARANTINE},
        actor=SYSTEM,
    )

    assert missing.errors[0].field == f"lines.{cap_line.pk}"
    first.refresh_from_db()
    parcel_return.refresh_from_db()
    assert first.status == OrderStatus.RETURNED
    assert parcel_return.status == ReturnStatus.RECEIVED
    tee, cap = Stock.objects.get(product__sku="TEE"), Stock.objects.get(product__sku="CAP")
    assert tee.on_hand == tee_on_hand + 2
    assert (cap.quarantined, cap.available) == (1, cap.on_hand - cap.reserved - 1)
    assert inventory_verify() == []


def test_partner_requests_a_return_of_a_delivered_order(floor, two_orders, partner_a, member) -> None:
    first, _ = two_orders
    packed(floor, first)
    manifest = manifest_open(warehouse=floor.warehouse, carrier="aes_riders", actor=SYSTEM)
    manifest_scan(manifest=manifest, code=first.tracking_code, actor=SYSTEM)
    manifest_close(manifest=manifest, actor=SYSTEM)
    owner = member(partner_a)
    partner = Actor(user=owner.user, organization=partner_a, role=owner.role)
    early = refused(lambda: return_request(order=first, lines=[("TEE", 1)], reason="too small", actor=partner))
    order_record_delivery(order=first, delivered=True, note="", actor=SYSTEM)

    too_many = refused(lambda: return_request(order=first, lines=[("TEE", 3)], reason="", actor=partner))
    parcel_return = return_request(order=first, lines=[("TEE", 1)], reason="too small", actor=partner)
    return_receive(
        parcel_return=parcel_return, conditions={parcel_return.lines.get().pk: ReturnCondition.DISPOSE}, actor=SYSTEM
    )

    assert "Only delivered orders" in early.detail
    assert too_many.errors[0].field == "lines[0].quantity"
    first.refresh_from_db()
    assert first.status == OrderStatus.RETURNED
    assert inventory_verify() == []


def test_label_and_packing_slip_are_pdfs_with_the_tracking_code(floor, two_orders) -> None:
    first, _ = two_orders
    packed(floor, first)

    label = shipping_label_pdf(first)
    slip = packing_slip_pdf(first)

    assert label.startswith(b"%PDF")
    assert slip.startswith(b"%PDF")
    assert first.tracking_code.encode() in label


def test_the_tracking_barcode_fits_the_label_for_every_code() -> None:
    label_width, margin = LABEL_SIZE[0], 0.2 * inch
    widest = "AES-" + "-".join(["WWWW"] * 3) + "-W"  # letters only: no digit pairs for Code 128 to pack two to a symbol

    for code in [widest, tracking_code_generate(), "AES-0000-0000-0000-0"]:
        barcode = tracking_barcode(code, max_width=label_width - 2 * margin)
        assert barcode.width <= label_width - 2 * margin + 1e-6
        assert barcode.barWidth >= 1.0  # 0.35 mm bars: easy for a hand scanner at 203 dpi
        assert barcode.value == code.replace("-", "")


def test_returns_api_announces_a_return_and_reports_it(floor, two_orders, partner_a, partner_b, api_client_for) -> None:

    first, _ = two_orders
    packed(floor, first)
    manifest = manifest_open(warehouse=floor.warehouse, carrier="aes_riders", actor=SYSTEM)
    manifest_scan(manifest=manifest, code=first.tracking_code, actor=SYSTEM)
    manifest_close(manifest=manifest, actor=SYSTEM)
    order_record_delivery(order=first, delivered=True, note="", actor=SYSTEM)
    api = api_client_for(partner_a)
    body = {"order_id": first.pk, "lines": [{"sku": "CAP", "quantity": 1}], "reason": "Wrong colour"}

    created = api.post("/api/v1/returns", json.dumps(body), content_type="application/json")
    fetched = api.get(f"/api/v1/returns/{created.json()['id']}")
    foreign = api_client_for(partner_b).post("/api/v1/returns", json.dumps(body), content_type="application/json")
    unknown = api.post(
        "/api/v1/returns",
        json.dumps(body | {"lines": [{"sku": "NOPE", "quantity": 1}]}),
        content_type="application/json",
    )

    assert created.status_code == 201
    assert fetched.json()["lines"] == [{"sku": "CAP", "quantity": 1, "condition": ""}]
    assert (fetched.json()["status"], fetched.json()["source"]) == ("expected", "partner_request")
    assert foreign.status_code == 404
    assert unknown.json()["errors"][0]["field"] == "lines[0].sku"
