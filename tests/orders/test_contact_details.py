"""Phone numbers and e-mail addresses are checked the same way through every door that takes
orders (the API with a key, the CSV upload page): a bad one names its field and reserves nothing;
a good one is stored in E.164, read in the partner's default country."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from allied.accounts.roles import Role
from allied.inventory.models import Stock
from allied.orders.models import Order
from tests.catalog.factories import ProductFactory
from tests.orders.test_orders_api import order_body, post

pytestmark = pytest.mark.django_db

CSV_HEADER = (
    "external_id,recipient_name,recipient_phone,recipient_email,address_line1,city,sku,quantity,unit_price,"
    "currency,payment_method\n"
)


@pytest.fixture
def tee(partner_a, floor, stock_in):
    stock_in(ProductFactory(organization=partner_a, sku="TEE"), 10)


@pytest.fixture
def shop(tee, partner_a, api_client_for):
    return api_client_for(partner_a, scopes=["orders:read", "orders:write"])


@pytest.fixture
def owner(tee, partner_a, member, client_for):
    return client_for(member(partner_a, Role.OWNER))


def csv_upload(owner, *rows: str):
    text = CSV_HEADER + "".join(rows)
    return owner.post(
        "/portal/orders/import/", {"file": SimpleUploadedFile("orders.csv", text.encode(), content_type="text/csv")}
    )


@pytest.mark.parametrize(
    ("recipient", "field", "code"),
    [
        ({"name": "Hina", "phone": "not-a-phone"}, "recipient.phone", "invalid_phone"),
        ({"name": "Hina", "phone": "+92 300 1112233", "email": "bad-email"}, "recipient.email", "invalid_email"),
        ({"name": "Hina", "phone": "12345"}, "recipient.phone", "invalid_phone"),
    ],
)
def test_api_refuses_a_bad_phone_or_email_naming_the_field_and_reserves_nothing(shop, recipient, field, code) -> None:
    response = post(shop, order_body(recipient=recipient))

    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)]
    assert not Order.objects.exists()
    assert Stock.objects.get().reserved == 0


def test_api_stores_a_local_number_of_a_pk_partner_in_e164(shop, partner_a) -> None:
    assert partner_a.default_country == "PK"

    recipient = {"name": "Hina", "phone": "0300 1112233", "email": " hina@example.com "}
    response = post(shop, order_body(recipient=recipient))

    assert response.status_code == 201, response.content
    assert (response.json()["recipient_phone"], response.json()["recipient_email"]) == (
        "+923001112233",
        "hina@example.com",
    )
    stored = Order.objects.get()
    assert (stored.recipient_phone, stored.recipient_email) == ("+923001112233", "hina@example.com")
    assert shop.get(f"/api/v1/orders/{stored.pk}").json()["recipient_phone"] == "+923001112233"


def test_a_local_number_is_read_in_the_partners_own_default_country(shop, partner_a) -> None:
    partner_a.default_country = "AE"
    partner_a.save(update_fields=["default_country"])

    local_to_the_uae = post(shop, order_body(external_id="UAE", recipient={"name": "Omar", "phone": "050 123 4567"}))
    international = post(shop, order_body(external_id="PK", recipient={"name": "Hina", "phone": "+92 300 1112233"}))

    assert local_to_the_uae.status_code == 201, local_to_the_uae.content
    assert local_to_the_uae.json()["recipient_phone"] == "+971501234567"
    assert international.json()["recipient_phone"] == "+923001112233"


def _report_rows(page: str) -> list[tuple[str, str, str]]:
    cells = re.findall(r'<tr><td class="num">(\d+)</td><td><code>([^<]*)</code></td><td>([^<]*)</td></tr>', page)
    return [(row, column, message) for row, column, message in cells]


def test_csv_reports_a_bad_phone_and_email_by_row_and_column_and_stores_nothing(owner) -> None:
    response = csv_upload(
        owner,
        "W-1,Hina,0300 1112233,hina@example.com,House 12,Karachi,TEE,1,10.00,PKR,prepaid\n",
        "W-2,Ahmed,not-a-phone,,Flat 3B,Karachi,TEE,1,10.00,PKR,prepaid\n",
        "W-3,Sadia,+92 312 5556677,bad-email,B-14,Karachi,TEE,1,10.00,PKR,prepaid\n",
    )

    page = response.content.decode()
    assert "Nothing was imported" in page
    assert [(row, column) for row, column, _ in _report_rows(page)] == [
        ("3", "recipient_phone"),
        ("4", "recipient_email"),
    ]
    assert "is not a valid phone number" in page
    assert "is not a valid e-mail address" in page
    assert not Order.objects.exists()
    assert Stock.objects.get().reserved == 0


def test_csv_stores_a_local_number_in_e164(owner) -> None:
    csv_upload(owner, "W-1,Hina,0300 1112233,hina@example.com,House 12,Karachi,TEE,2,10.00,PKR,prepaid\n")

    order = Order.objects.get()
    assert order.recipient_phone == "+923001112233"
    assert Stock.objects.get().reserved == 2


def test_a_bad_email_is_refused_even_when_the_external_id_was_taken_in_before(shop) -> None:
    first = post(shop, order_body(external_id="TWICE"))
    again = post(
        shop, order_body(external_id="TWICE", recipient={"name": "Hina", "phone": "0300 1112233", "email": "0"})
    )

    assert first.status_code == 201
    assert again.status_code == 422
    assert [e["field"] for e in again.json()["errors"]] == ["recipient.email"]
