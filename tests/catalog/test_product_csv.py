import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from allied.accounts.models import Organization
from allied.accounts.roles import Role
from allied.catalog.models import Product
from allied.catalog.product_csv import MAX_IMPORT_ROWS
from allied.core.models import DomainEvent
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db

HEADER = (
    "sku,name,barcodes,weight_grams,length_mm,width_mm,height_mm,declared_value,currency,tracks_lots,tracks_expiry,"
    "is_active"
)


def csv_file(*lines: str, name: str = "products.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, "\n".join(lines).encode(), content_type="text/csv")


def exported(response: object) -> list[dict[str, str]]:
    text = response.content.decode("utf-8")  # type: ignore[attr-defined]
    assert text.startswith("\ufeff"), "a byte-order mark, so spreadsheets read UTF-8"
    return list(csv.DictReader(io.StringIO(text[1:])))


def report(response: object) -> list[tuple[int, str, str]]:
    parsed = response.context["parsed"]  # type: ignore[attr-defined]
    return [(error.row, error.column, error.message) for error in parsed.errors]


@pytest.fixture
def owner(partner_a: Organization, member: object, client_for: object) -> Client:
    return client_for(member(partner_a, Role.OWNER))  # type: ignore[operator]


@pytest.fixture
def admin(operator_org: Organization, member: object, client_for: object) -> Client:
    return client_for(member(operator_org, Role.ADMIN))  # type: ignore[operator]


MIXED = (
    HEADER,
    "NEW-1,New one,4006381333931 4006381333948,250,100,80,20,1500.00,PKR,no,yes,yes",
    "OLD-1,Renamed,,,,,,,,,,",
    "BAD 2,Has a bad SKU,,-5,,,,,,,,",
    "NEW-3,Third,,,,,,12.345,usd,maybe,,",
)


def test_a_valid_file_creates_new_skus_and_updates_existing_ones(owner: Client, partner_a: Organization) -> None:
    old = ProductFactory(organization=partner_a, sku="OLD-1", name="Old name", weight_grams=900)

    response = owner.post(
        "/portal/products/import/", {"file": csv_file(HEADER, MIXED[1], MIXED[2], "OLD-2,Second new,,,,,,,,,,no")}
    )

    assert response.status_code == 200
    result = response.context["result"]
    assert (result.created, result.updated, result.unchanged) == (2, 1, 0)
    new = Product.objects.get(sku="NEW-1")
    assert (new.organization, new.name, new.barcodes) == (partner_a, "New one", ["4006381333931", "4006381333948"])
    assert (new.weight_grams, new.declared_value, new.tracks_lots, new.tracks_expiry) == (
        250,
        Decimal("1500.00"),
        False,
        True,
    )
    old.refresh_from_db()
    assert (old.name, old.weight_grams, old.barcodes) == ("Renamed", 0, []), "an empty cell is the default"
    assert Product.objects.get(sku="OLD-2").is_active is False
    assert "2 products added, 1 updated" in response.content.decode()


def test_a_file_with_any_bad_row_stores_nothing_and_reports_every_error(owner: Client, partner_a: Organization) -> None:
    ProductFactory(organization=partner_a, sku="OLD-1", name="Old name")

    response = owner.post("/portal/products/import/", {"file": csv_file(*MIXED)})

    assert response.status_code == 200
    assert response.context["result"] is None
    assert report(response) == [
        (4, "sku", "Use only letters, digits and . _ / - (no spaces)."),
        (4, "weight_grams", "Use 0 or more."),
        (5, "declared_value", "Use at most two decimal places."),
        (5, "currency", "Use a three-letter currency code in capitals, such as PKR."),
        (5, "tracks_lots", "Use yes or no."),
    ]
    assert sorted(Product.objects.values_list("sku", "name")) == [("OLD-1", "Old name")]
    assert not DomainEvent.objects.exists()
    page = response.content.decode()
    assert "Nothing was imported." in page
    assert "2 of 4 rows have errors; the other 2 are valid." in page
    assert '<td class="num">4</td><td><code>weight_grams</code></td>' in page


def test_ticking_import_the_valid_rows_stores_only_those(owner: Client, partner_a: Organization) -> None:
    ProductFactory(organization=partner_a, sku="OLD-1", name="Old name")

    response = owner.post("/portal/products/import/", {"file": csv_file(*MIXED), "import_valid_rows": "on"})

    result = response.context["result"]
    assert (result.created, result.updated) == (1, 1)
    assert sorted(Product.objects.values_list("sku", "name")) == [("NEW-1", "New one"), ("OLD-1", "Renamed")]
    assert [row for row, _, _ in report(response)] == [4, 4, 5, 5, 5], "the skipped rows are still reported"
    assert "2 rows with errors were skipped" in response.content.decode()


def test_a_sku_twice_in_one_file_is_an_error_on_the_second_row(owner: Client) -> None:
    response = owner.post("/portal/products/import/", {"file": csv_file("sku,name", "A-1,First", "A-1,Again")})

    assert report(response) == [(3, "sku", "SKU A-1 is also on row 2.")]
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ((), "The submitted file is empty."),
        (("", "A,b"), "The first row is empty."),
        (("sku,name",), "The file has a header but no products."),
        (("sku,colour", "A,red"), "Unknown column colour."),
        (("name,weight_grams", "A,1"), "The file needs the column sku."),
        (("sku,name,name", "A,b,c"), "The column name appears more than once."),
    ],
)
def test_a_file_that_cannot_be_read_as_products_is_refused_with_a_reason(
    owner: Client, lines: tuple[str, ...], message: str
) -> None:
    response = owner.post("/portal/products/import/", {"file": csv_file(*lines)})

    assert response.status_code == 200
    assert message in response.context["form"].errors["file"][0]
    assert not Product.objects.exists()


def test_files_over_the_size_or_row_limit_are_refused(owner: Client) -> None:
    big = SimpleUploadedFile("big.csv", b"sku,name\n" + b"A,b\n" * 600_000, content_type="text/csv")
    many = csv_file("sku,name", *(f"SKU-{n},Product {n}" for n in range(MAX_IMPORT_ROWS + 1)))

    too_big = owner.post("/portal/products/import/", {"file": big})
    too_many = owner.post("/portal/products/import/", {"file": many})

    assert "the limit is 2 MB" in too_big.context["form"].errors["file"][0]
    assert "the limit is 5,000 per file" in too_many.context["form"].errors["file"][0]
    assert not Product.objects.exists()


def test_a_file_that_is_not_utf8_is_refused(owner: Client) -> None:
    latin1 = SimpleUploadedFile("latin1.csv", "sku,name\nA,Café\n".encode("latin-1"), content_type="text/csv")

    response = owner.post("/portal/products/import/", {"file": latin1})

    assert "not UTF-8" in response.context["form"].errors["file"][0]


def test_export_lists_only_the_partners_own_products(
    owner: Client, partner_a: Organization, partner_b: Organization
) -> None:
    ProductFactory(
        organization=partner_a,
        sku="TEE-1",
        name="Tee, black",
        barcodes=["111", "222"],
        weight_grams=180,
        declared_value=Decimal("1500"),
        tracks_expiry=True,
    )
    ProductFactory(organization=partner_a, sku="MUG-1", is_active=False)
    ProductFactory(organization=partner_b, sku="SECRET-B")

    response = owner.get("/portal/products/export.csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="products-partner-a-')
    rows = exported(response)
    assert list(rows[0]) == HEADER.split(",")
    assert [row["sku"] for row in rows] == ["MUG-1", "TEE-1"]
    assert rows[1] | {} == {
        "sku": "TEE-1",
        "name": "Tee, black",
        "barcodes": "111 222",
        "weight_grams": "180",
        "length_mm": "0",
        "width_mm": "0",
        "height_mm": "0",
        "declared_value": "1500.00",
        "currency": "PKR",
        "tracks_lots": "no",
        "tracks_expiry": "yes",
        "is_active": "yes",
    }
    assert rows[0]["is_active"] == "no"


def test_export_follows_the_list_search(owner: Client, partner_a: Organization) -> None:
    ProductFactory(organization=partner_a, sku="TEE-1")
    ProductFactory(organization=partner_a, sku="MUG-1")

    rows = exported(owner.get("/portal/products/export.csv?q=tee"))

    assert [row["sku"] for row in rows] == ["TEE-1"]


def test_an_export_imports_back_unchanged(owner: Client, partner_a: Organization) -> None:
    ProductFactory(organization=partner_a, sku="F-1", name='=HYPERLINK("http://evil.example")', barcodes=["+123"])
    ProductFactory(organization=partner_a, sku="F-2", name="Plain", tracks_lots=True, is_active=False)
    exported_bytes = owner.get("/portal/products/export.csv").content

    assert "'=HYPERLINK" in exported_bytes.decode(), "spreadsheets do not run the cell as a formula"
    response = owner.post(
        "/portal/products/import/", {"file": SimpleUploadedFile("again.csv", exported_bytes, content_type="text/csv")}
    )

    result = response.context["result"]
    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert Product.objects.get(sku="F-1").name == '=HYPERLINK("http://evil.example")'
    assert not DomainEvent.objects.exists()


def test_operator_exports_one_partner_with_a_partner_column(
    admin: Client, partner_a: Organization, partner_b: Organization
) -> None:
    ProductFactory(organization=partner_a, sku="A-1")
    ProductFactory(organization=partner_b, sku="B-1")

    everyone = exported(admin.get("/ops/products/export.csv"))
    only_b = exported(admin.get("/ops/products/export.csv?partner=partner-b"))

    assert sorted((row["sku"], row["partner"]) for row in everyone) == [("A-1", "partner-a"), ("B-1", "partner-b")]
    assert [(row["sku"], row["partner"]) for row in only_b] == [("B-1", "partner-b")]


def test_operator_imports_into_the_chosen_partner(
    admin: Client, partner_a: Organization, partner_b: Organization
) -> None:
    ProductFactory(organization=partner_a, sku="SAME", name="A's product")

    response = admin.post(
        "/ops/products/import/", {"partner": "partner-b", "file": csv_file("sku,name", "SAME,B's product")}
    )

    assert response.context["result"].created == 1
    assert Product.objects.get(organization=partner_b).name == "B's product"
    assert Product.objects.get(organization=partner_a).name == "A's product"


def test_rows_marked_for_another_partner_are_errors(admin: Client, partner_a: Organization) -> None:
    response = admin.post(
        "/ops/products/import/",
        {"partner": "partner-a", "file": csv_file("sku,name,partner", "A-1,Mine,partner-a", "B-1,Theirs,partner-b")},
    )

    assert report(response) == [(3, "partner", "This row is for partner-b; you are importing into partner-a.")]
    assert not Product.objects.exists()


def test_partners_import_only_into_their_own_catalog(
    owner: Client, partner_a: Organization, partner_b: Organization
) -> None:
    response = owner.post(
        "/portal/products/import/", {"partner": "partner-b", "file": csv_file("sku,name", "X-1,Mine")}
    )

    assert response.context["result"].created == 1
    assert Product.objects.get().organization == partner_a


def test_viewers_cannot_import(partner_a: Organization, member: object, client_for: object) -> None:
    viewer = client_for(member(partner_a, Role.VIEWER))  # type: ignore[operator]

    response = viewer.post("/portal/products/import/", {"file": csv_file("sku,name", "X-1,Mine")})

    assert response.status_code == 403
    assert not Product.objects.exists()


def test_an_htmx_upload_answers_with_the_importer_only(owner: Client) -> None:
    response = owner.post(
        "/portal/products/import/", {"file": csv_file("sku,name", "BAD SKU,x")}, headers={"HX-Request": "true"}
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="importer"')
    assert "<html" not in body
    assert "Errors, row by row" in body


def test_semicolon_separated_files_and_spreadsheet_extras_are_read(owner: Client) -> None:
    content = "\ufeffSKU;Name;Barcodes\r\nA-1;First;111,222\r\n;;\r\n".encode()

    response = owner.post(
        "/portal/products/import/", {"file": SimpleUploadedFile("excel.csv", content, content_type="text/csv")}
    )

    assert response.context["result"].created == 1
    assert Product.objects.get().barcodes == ["111", "222"]
