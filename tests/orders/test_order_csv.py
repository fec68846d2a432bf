import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from allied.accounts.roles import Role
from allied.inventory.models import Stock
from allied.orders.models import Channel, Order
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db

HEADER = (
    "external_id,recipient_name,recipient_phone,address_line1,city,sku,quantity,unit_price,currency,"
    "payment_method,cod_amount\n"
)
GOOD = (
    "W-1,Hina Baig,+92 300 1112233,House 12,Karachi,TEE,2,1500.00,PKR,cod,3000\n"
    "W-1,,,,,CAP,1,500.00,,,\n"
    "W-2,Ahmed Raza,+92 321 4445566,Flat 3B,Karachi,CAP,1,500.00,PKR,prepaid,\n"
)


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("orders.csv", text.encode(), content_type="text/csv")


@pytest.fixture
def owner(partner_a, member, client_for, floor, stock_in):
    stock_in(ProductFactory(organization=partner_a, sku="TEE"), 10)
    stock_in(ProductFactory(organization=partner_a, sku="CAP"), 10)
    return client_for(member(partner_a, Role.OWNER))


def test_rows_with_one_external_id_become_one_order_and_reimport_creates_nothing(owner) -> None:
    first = owner.post("/portal/orders/import/", {"file": upload(HEADER + GOOD)})
    again = owner.post("/portal/orders/import/", {"file": upload(HEADER + GOOD)})

    assert "2 orders imported" in first.content.decode()
    assert "imported before" in again.content.decode()
    assert Order.objects.filter(channel=Channel.CSV).count() == 2
    order = Order.objects.get(external_id="W-1")
    assert sorted((line.sku, line.quantity) for line in order.lines.all()) == [("CAP", 1), ("TEE", 2)]
    assert (order.cod_amount, order.status) == (3000, "allocated")
    assert Stock.objects.get(product__sku="CAP").reserved == 2


def test_any_bad_order_stores_nothing_and_every_problem_is_reported_by_row(owner) -> None:
    bad = HEADER + GOOD + "W-3,Sadia,+92 312 5556677,B-14,Karachi,NOPE,0,5.00,PKR,cod,\n" + "W-1,,,,,TEE,1,1.00,USD,,\n"

    response = owner.post("/portal/orders/import/", {"file": upload(bad)})

    page = response.content.decode()
    assert "Nothing was imported" in page
    assert "Unknown or inactive SKU &#x27;NOPE&#x27;" in page
    assert "Cash-on-delivery orders need the amount to collect." in page
    assert "Differs from row 2 of the same order." in page
    assert not Order.objects.exists()


def test_import_the_valid_orders_leaves_out_only_the_bad_ones(owner) -> None:
    bad = HEADER + GOOD + "W-3,Sadia,+92 312 5556677,B-14,Karachi,NOPE,1,5.00,PKR,prepaid,\n"

    owner.post("/portal/orders/import/", {"file": upload(bad), "import_valid_orders": "on"})

    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["W-1", "W-2"]


def test_unreadable_files_are_refused_with_a_message(owner) -> None:
    missing_column = owner.post("/portal/orders/import/", {"file": upload("external_id,sku\nA,TEE\n")})
    latin1 = owner.post("/portal/orders/import/", {"file": SimpleUploadedFile("o.csv", "é".encode("latin-1"))})

    assert "The file needs the columns" in missing_column.content.decode()
    assert "not UTF-8" in latin1.content.decode()
    assert not Order.objects.exists()


def test_viewers_cannot_import(partner_a, member, client_for) -> None:
    viewer = client_for(member(partner_a, Role.VIEWER))

    assert viewer.post("/portal/orders/import/", {"file": upload(HEADER + GOOD)}).status_code == 403
    assert not Order.objects.exists()
