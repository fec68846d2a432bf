from decimal import Decimal

import pytest
from django.test import Client

from allied.accounts.models import Organization
from allied.accounts.roles import Role
from allied.catalog.models import Product
from allied.core.models import DomainEvent
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db

FORM = {
    "sku": "TEE-BLK-M",
    "name": "Black tee, medium",
    "barcodes": "4006381333931, 4006381333948 5012345678900",
    "weight_grams": "180",
    "length_mm": "300",
    "width_mm": "220",
    "height_mm": "20",
    "declared_value": "1500",
    "currency": "pkr",
    "tracks_lots": "on",
    "is_active": "on",
}


@pytest.fixture
def owner(partner_a: Organization, member: object, client_for: object) -> Client:
    return client_for(member(partner_a, Role.OWNER))  # type: ignore[operator]


@pytest.fixture
def admin(operator_org: Organization, member: object, client_for: object) -> Client:
    return client_for(member(operator_org, Role.ADMIN))  # type: ignore[operator]


def test_owner_adds_a_product_from_the_portal(owner: Client, partner_a: Organization) -> None:
    response = owner.post("/portal/products/new/", FORM)

    product = Product.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/portal/products/{product.pk}/"
    assert (product.organization, product.sku, product.currency) == (partner_a, "TEE-BLK-M", "PKR")
    assert product.barcodes == ["4006381333931", "4006381333948", "5012345678900"]
    assert (product.weight_grams, product.length_mm, product.width_mm, product.height_mm) == (180, 300, 220, 20)
    assert (product.declared_value, product.tracks_lots, product.tracks_expiry) == (Decimal("1500.00"), True, False)
    assert DomainEvent.objects.get().type == "product.created"
    assert "TEE-BLK-M is in the catalog." in owner.get(response["Location"]).content.decode()


def test_a_taken_sku_is_shown_on_the_sku_field(owner: Client, partner_a: Organization) -> None:
    ProductFactory(organization=partner_a, sku="TEE-BLK-M")

    response = owner.post("/portal/products/new/", FORM)

    assert response.status_code == 200
    assert response.context["form"].errors["sku"] == ["Already used by another product."]
    assert Product.objects.count() == 1


def test_invalid_fields_are_explained_in_words(owner: Client) -> None:
    response = owner.post(
        "/portal/products/new/", FORM | {"sku": "has spaces", "currency": "rupees", "declared_value": "1.999"}
    )

    errors = response.context["form"].errors
    assert response.status_code == 200
    assert errors["sku"] == ["Use only letters, digits and . _ / - (no spaces)."]
    assert errors["currency"] == ["Ensure this value has at most 3 characters (it has 6)."]
    assert errors["declared_value"] == ["Use at most two decimal places."]
    assert "Use only letters, digits" in response.content.decode()
    assert not Product.objects.exists()


def test_owner_edits_a_product(owner: Client, partner_a: Organization) -> None:
    product = ProductFactory(organization=partner_a, sku="OLD-SKU", name="Old", barcodes=["111", "222"])

    form_page = owner.get(f"/portal/products/{product.pk}/edit/")
    response = owner.post(f"/portal/products/{product.pk}/edit/", FORM | {"sku": "NEW-SKU", "barcodes": "333"})

    assert form_page.status_code == 200
    assert 'value="111 222"' in form_page.content.decode()
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.sku, product.name, product.barcodes) == ("NEW-SKU", "Black tee, medium", ["333"])
    assert DomainEvent.objects.get().type == "product.updated"


def test_editing_to_a_taken_sku_shows_the_error_and_changes_nothing(owner: Client, partner_a: Organization) -> None:
    ProductFactory(organization=partner_a, sku="TAKEN")
    product = ProductFactory(organization=partner_a, sku="MINE", name="Mine")

    response = owner.post(f"/portal/products/{product.pk}/edit/", FORM | {"sku": "TAKEN"})

    assert response.status_code == 200
    assert response.context["form"].errors["sku"] == ["Already used by another product."]
    product.refresh_from_db()
    assert (product.sku, product.name) == ("MINE", "Mine")


def test_deactivate_and_reactivate_without_deleting(owner: Client, partner_a: Organization) -> None:
    product = ProductFactory(organization=partner_a)
    detail = f"/portal/products/{product.pk}/"

    assert "Deactivate" in owner.get(detail).content.decode()
    deactivated = owner.post(f"{detail}deactivate/")
    product.refresh_from_db()
    assert (deactivated.status_code, deactivated["Location"], product.is_active) == (302, detail, False)
    page = owner.get(detail).content.decode()
    assert "Reactivate" in page
    assert "inactive" in page

    owner.post(f"{detail}reactivate/")

    product.refresh_from_db()
    assert product.is_active is True
    assert owner.get(f"{detail}deactivate/").status_code == 405, "a GET changes nothing"
    assert list(DomainEvent.objects.values_list("payload__is_active", flat=True)) == [False, True]


def test_viewer_sees_products_but_cannot_change_them(
    partner_a: Organization, member: object, client_for: object
) -> None:
    viewer = client_for(member(partner_a, Role.VIEWER))  # type: ignore[operator]
    product = ProductFactory(organization=partner_a, name="Untouched")

    listing = viewer.get("/portal/products/").content.decode()
    detail = viewer.get(f"/portal/products/{product.pk}/").content.decode()

    assert product.sku in listing
    assert "New product" not in listing
    assert "Import CSV" not in listing
    assert "Edit" not in detail
    assert viewer.get("/portal/products/new/").status_code == 403
    assert viewer.post("/portal/products/new/", FORM).status_code == 403
    assert viewer.post(f"/portal/products/{product.pk}/edit/", FORM).status_code == 404
    assert viewer.post(f"/portal/products/{product.pk}/deactivate/").status_code == 404
    product.refresh_from_db()
    assert (product.name, product.is_active) == ("Untouched", True)
    assert not Product.objects.filter(sku=FORM["sku"]).exists()


def test_a_partner_cannot_edit_another_partners_product(owner: Client, partner_b: Organization) -> None:
    theirs = ProductFactory(organization=partner_b, name="Theirs")

    assert owner.get(f"/portal/products/{theirs.pk}/edit/").status_code == 404
    assert owner.post(f"/portal/products/{theirs.pk}/edit/", FORM).status_code == 404
    assert owner.post(f"/portal/products/{theirs.pk}/deactivate/").status_code == 404
    assert owner.post(f"/ops/products/{theirs.pk}/edit/", FORM).status_code == 404
    theirs.refresh_from_db()
    assert (theirs.name, theirs.sku != FORM["sku"], theirs.is_active) == ("Theirs", True, True)
    assert not DomainEvent.objects.exists()


def test_operator_adds_a_product_for_the_partner_they_choose(
    admin: Client, partner_a: Organization, partner_b: Organization
) -> None:
    form_page = admin.get("/ops/products/new/?partner=partner-b").content.decode()

    response = admin.post("/ops/products/new/", FORM | {"partner": "partner-b"})

    assert '<option value="partner-b" selected>' in form_page
    product = Product.objects.get()
    assert product.organization == partner_b
    assert response["Location"] == f"/ops/products/{product.pk}/"


def test_operator_edits_and_deactivates_a_partners_product(admin: Client, partner_a: Organization) -> None:
    product = ProductFactory(organization=partner_a, name="Before")

    admin.post(f"/ops/products/{product.pk}/edit/", FORM | {"name": "After"})
    admin.post(f"/ops/products/{product.pk}/deactivate/")

    product.refresh_from_db()
    assert (product.name, product.is_active, product.organization) == ("After", False, partner_a)


def test_operators_without_catalog_rights_cannot_add_products(
    operator_org: Organization, partner_a: Organization, member: object, client_for: object
) -> None:
    dispatcher = client_for(member(operator_org, Role.DISPATCHER))  # type: ignore[operator]

    assert dispatcher.get("/ops/products/").status_code == 200
    assert dispatcher.post("/ops/products/new/", FORM | {"partner": "partner-a"}).status_code == 403
    assert not Product.objects.exists()


def test_list_and_detail_link_to_the_actions(owner: Client, partner_a: Organization) -> None:
    product = ProductFactory(organization=partner_a)

    listing = owner.get("/portal/products/?q=SKU").content.decode()
    detail = owner.get(f"/portal/products/{product.pk}/").content.decode()

    assert 'href="/portal/products/new/"' in listing
    assert 'href="/portal/products/import/"' in listing
    assert 'href="/portal/products/export.csv?q=SKU"' in listing
    assert f'href="/portal/products/{product.pk}/edit/"' in detail
    assert f'action="/portal/products/{product.pk}/deactivate/"' in detail
