import pytest

from allied.accounts.roles import Role
from allied.inventory.models import CountStatus, CycleCount, InboundShipment, Stock
from allied.orders.models import Order, OrderStatus
from allied.orders.services.intake import order_create
from tests.catalog.factories import ProductFactory
from tests.orders.factories import order_input

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(partner_a, floor, stock_in):
    tee = ProductFactory(organization=partner_a, sku="TEE", name="Black tee")
    stock_in(tee, 5)
    return tee


def test_partner_sees_and_cancels_its_order(partner_a, member, client_for, stocked, system_actor) -> None:
    order = order_create(organization=partner_a, data=order_input(("TEE", 2)), actor=system_actor).order
    owner = client_for(member(partner_a, Role.OWNER))

    listing = owner.get("/portal/orders/", {"status": "allocated"}).content.decode()
    detail = owner.get(f"/portal/orders/{order.pk}/").content.decode()
    owner.post(f"/portal/orders/{order.pk}/", {"action": "cancel", "reason": "duplicate"})
    cancelled = owner.get(f"/portal/orders/{order.pk}/").content.decode()

    assert order.number in listing
    assert "<strong>Cancelled</strong> — duplicate" in cancelled  # the timeline shows the reason given
    assert "Black tee" in detail
    assert "Cancel order" in detail
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert Stock.objects.get(product=stocked).reserved == 0


def test_viewer_cannot_cancel(partner_a, member, client_for, stocked, system_actor) -> None:
    order = order_create(organization=partner_a, data=order_input(("TEE", 1)), actor=system_actor).order
    viewer = client_for(member(partner_a, Role.VIEWER))

    page = viewer.get(f"/portal/orders/{order.pk}/").content.decode()
    refused = viewer.post(f"/portal/orders/{order.pk}/", {"action": "cancel"})

    assert "Cancel order" not in page
    assert refused.status_code == 403
    assert "Your role does not allow this page or this action." in refused.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED


def test_partner_announces_an_asn_in_the_portal_with_line_errors(partner_a, member, client_for, floor) -> None:
    ProductFactory(organization=partner_a, sku="TEE")
    owner = client_for(member(partner_a, Role.OWNER))

    bad = owner.post("/portal/inbound/", {"reference": "PO-9", "lines": "TEE, 10\nNOPE, 3\nTEE"})
    good = owner.post("/portal/inbound/", {"reference": "PO-9", "lines": "TEE, 10"})

    assert "Line 2: Unknown SKU &#x27;NOPE&#x27;." in bad.content.decode()  # the API's words, numbered
    assert "Line 3: give a quantity" in bad.content.decode()
    inbound = InboundShipment.objects.get()
    assert good["Location"] == f"/portal/inbound/{inbound.pk}/"
    assert inbound.lines.get().expected_quantity == 10


def test_warehouse_counts_and_recounts_through_the_pages(operator_org, member, client_for, stocked, floor) -> None:
    staff = client_for(member(operator_org, Role.WAREHOUSE))

    staff.post(
        "/ops/inventory/correct/", {"action": "count", "count-code": "TEE", "count-bin": "A-01-01", "count-counted": 4}
    )
    count = CycleCount.objects.get()
    staff.post(f"/ops/inventory/counts/{count.pk}/recount/", {"counted": "4"})

    count.refresh_from_db()
    assert count.status == CountStatus.DONE
    assert Stock.objects.get(product=stocked).on_hand == 4
    ledger = staff.get(f"/ops/inventory/products/{stocked.pk}/").content.decode()
    assert "Cycle count" in ledger


def test_operator_order_list_filters_by_partner(
    operator_org, partner_a, partner_b, member, client_for, floor, system_actor
):
    ProductFactory(organization=partner_a, sku="TEE")
    ProductFactory(organization=partner_b, sku="CAP")
    a = order_create(organization=partner_a, data=order_input(("TEE", 1)), actor=system_actor).order
    b = order_create(organization=partner_b, data=order_input(("CAP", 1)), actor=system_actor).order
    staff = client_for(member(operator_org, Role.DISPATCHER))

    only_b = staff.get("/ops/orders/", {"partner": "partner-b"}).content.decode()

    assert b.number in only_b
    assert a.number not in only_b
    assert Order.objects.count() == 2
