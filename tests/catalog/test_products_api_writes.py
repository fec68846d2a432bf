"""PATCH /products/{product_id} and POST /products/bulk."""

import json
from decimal import Decimal

import pytest
from django.test import Client

from allied.accounts.models import Organization
from allied.catalog.models import Product
from allied.core.models import DomainEvent
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db


def patch(client: Client, product_id: int, body: object) -> object:
    return client.patch(f"/api/v1/products/{product_id}", data=json.dumps(body), content_type="application/json")


def bulk(client: Client, body: object) -> object:
    return client.post("/api/v1/products/bulk", data=json.dumps(body), content_type="application/json")


def problem_fields(response: object) -> list[str]:
    assert response.status_code == 422, response.content  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/problem+json"  # type: ignore[index]
    problem = response.json()  # type: ignore[attr-defined]
    assert problem["code"] == "validation_failed"
    return [error["field"] for error in problem["errors"]]


def test_patch_changes_only_the_fields_sent(partner_a: Organization, api_client_for: object) -> None:
    product = ProductFactory(organization=partner_a, sku="TEE-BLK-M", name="Black tee", weight_grams=180)
    api = api_client_for(partner_a, scopes=["inventory:write"])  # type: ignore[operator]

    response = patch(api, product.pk, {"weight_grams": 200, "declared_value": "1750.00", "is_active": False})

    assert response.status_code == 200  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert (body["id"], body["sku"], body["name"], body["weight_grams"]) == (product.pk, "TEE-BLK-M", "Black tee", 200)
    assert (body["declared_value"], body["is_active"]) == ("1750.00", False)
    product.refresh_from_db()
    assert (product.weight_grams, product.declared_value, product.is_active) == (200, Decimal("1750.00"), False)
    event = DomainEvent.objects.get()
    assert (event.type, event.payload["changed"]) == (
        "product.updated",
        ["weight_grams", "declared_value", "is_active"],
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"weight_grams": -1}, "weight_grams"),
        ({"sku": "has spaces"}, "sku"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"currency": "pkr"}, "currency"),
        ({"declared_value": "1.999"}, "declared_value"),
        ({"barcodes": ["x" * 65]}, "barcodes[0]"),
        ({"colour": "black"}, "colour"),
    ],
)
def test_patch_with_bad_input_is_422_naming_the_field_and_changes_nothing(
    body: dict, field: str, partner_a: Organization, api_client_for: object
) -> None:
    product = ProductFactory(organization=partner_a, sku="KEEP", name="Keep", weight_grams=180)

    response = patch(api_client_for(partner_a), product.pk, body)  # type: ignore[operator]

    assert field in problem_fields(response)
    product.refresh_from_db()
    assert (product.sku, product.name, product.weight_grams, product.currency) == ("KEEP", "Keep", 180, "PKR")
    assert not DomainEvent.objects.exists()


def test_patch_to_a_taken_sku_is_409(partner_a: Organization, api_client_for: object) -> None:
    ProductFactory(organization=partner_a, sku="TAKEN")
    product = ProductFactory(organization=partner_a, sku="MINE")

    response = patch(api_client_for(partner_a), product.pk, {"sku": "TAKEN"})  # type: ignore[operator]

    assert response.status_code == 409  # type: ignore[attr-defined]
    assert response.json()["errors"][0]["field"] == "sku"  # type: ignore[attr-defined]
    assert Product.objects.filter(pk=product.pk, sku="MINE").exists()


def test_patch_needs_inventory_write(partner_a: Organization, api_client_for: object) -> None:
    product = ProductFactory(organization=partner_a, name="Keep")

    response = patch(api_client_for(partner_a, scopes=["inventory:read"]), product.pk, {"name": "Changed"})  # type: ignore[operator]

    assert response.status_code == 403  # type: ignore[attr-defined]
    product.refresh_from_db()
    assert product.name == "Keep"


def test_patch_of_another_partners_product_is_404(
    partner_a: Organization, partner_b: Organization, api_client_for: object
) -> None:
    theirs = ProductFactory(organization=partner_b, name="Theirs")

    response = patch(api_client_for(partner_a), theirs.pk, {"name": "Mine"})  # type: ignore[operator]

    assert response.status_code == 404  # type: ignore[attr-defined]
    assert "Theirs" not in response.content.decode()  # type: ignore[attr-defined]
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


def test_bulk_creates_and_updates_by_sku(
    partner_a: Organization, partner_b: Organization, api_client_for: object
) -> None:
    old = ProductFactory(organization=partner_a, sku="OLD", name="Old", weight_grams=500, declared_value=Decimal("10"))
    same = ProductFactory(organization=partner_a, sku="SAME", name="Same")
    ProductFactory(organization=partner_b, sku="NEW", name="Partner B's NEW")
    api = api_client_for(partner_a, scopes=["inventory:write"])  # type: ignore[operator]

    response = bulk(
        api,
        {
            "items": [
                {"sku": "NEW", "name": "New", "barcodes": ["4006381333931"], "declared_value": "99.50"},
                {"sku": "OLD", "declared_value": "12.00"},
                {"sku": "SAME", "name": "Same"},
            ]
        },
    )

    assert response.status_code == 200  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 1, 1)
    assert [(item["sku"], item["name"], item["declared_value"]) for item in body["items"]] == [
        ("NEW", "New", "99.50"),
        ("OLD", "Old", "12.00"),
        ("SAME", "Same", "1200.00"),
    ]
    new = Product.objects.get(organization=partner_a, sku="NEW")
    assert (body["items"][0]["id"], new.barcodes, new.is_active) == (new.pk, ["4006381333931"], True)
    old.refresh_from_db()
    assert (old.name, old.weight_grams, old.declared_value) == ("Old", 500, Decimal("12.00")), "unsent fields stay"
    assert body["items"][2]["id"] == same.pk
    assert Product.objects.get(organization=partner_b).name == "Partner B's NEW"
    assert sorted(DomainEvent.objects.values_list("type", "organization__slug")) == [
        ("product.created", "partner-a"),
        ("product.updated", "partner-a"),
    ]


UPDATE = {"sku": "EXISTING", "name": "After"}  # valid on its own: it must not be stored either


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([UPDATE, {"sku": "B", "name": "B", "weight_grams": -1}], "items[1].weight_grams"),
        ([UPDATE, {"sku": "A", "name": "A"}, {"sku": "A", "name": "A again"}], "items[2].sku"),
        ([UPDATE, {"sku": "NEW-NO-NAME"}], "items[1].name"),
        ([UPDATE, {"name": "No SKU"}], "items[1].sku"),
        ([UPDATE, {"sku": "A", "name": "A", "currency": "rupees"}], "items[1].currency"),
        ([UPDATE, {"sku": "A", "name": "A", "colour": "red"}], "items[1].colour"),
        ([], "items"),
        ([UPDATE, *({"sku": f"S-{n}", "name": "x"} for n in range(500))], "items"),
    ],
)
def test_bulk_with_any_bad_item_is_422_naming_it_and_stores_nothing(
    items: list, field: str, partner_a: Organization, api_client_for: object
) -> None:
    existing = ProductFactory(organization=partner_a, sku="EXISTING", name="Before")

    response = bulk(api_client_for(partner_a), {"items": items})  # type: ignore[operator]

    assert field in problem_fields(response)
    assert list(Product.objects.values_list("sku", flat=True)) == ["EXISTING"]
    existing.refresh_from_db()
    assert existing.name == "Before"
    assert not DomainEvent.objects.exists()


def test_bulk_accepts_five_hundred_items(partner_a: Organization, api_client_for: object) -> None:
    items = [{"sku": f"S-{n:03d}", "name": f"Product {n}"} for n in range(500)]

    response = bulk(api_client_for(partner_a), {"items": items})  # type: ignore[operator]

    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.json()["created"] == 500  # type: ignore[attr-defined]
    assert Product.objects.filter(organization=partner_a).count() == 500


def test_bulk_needs_inventory_write(partner_a: Organization, api_client_for: object) -> None:
    api = api_client_for(partner_a, scopes=["inventory:read"])  # type: ignore[operator]

    response = bulk(api, {"items": [{"sku": "A", "name": "A"}]})

    assert response.status_code == 403  # type: ignore[attr-defined]
    assert not Product.objects.exists()


def test_openapi_documents_the_write_endpoints_with_examples(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()

    update = schema["paths"]["/api/v1/products/{product_id}"]["patch"]
    upsert = schema["paths"]["/api/v1/products/bulk"]["post"]
    assert update["requestBody"]["content"]["application/json"]["examples"]
    assert upsert["requestBody"]["content"]["application/json"]["examples"]
    assert upsert["responses"]["422"]["content"]["application/problem+json"]["examples"]
    assert upsert["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ProductBulkResultSchema"
    )
    assert schema["components"]["schemas"]["ProductBulkUpsertSchema"]["properties"]["items"]["maxItems"] == 500


@pytest.mark.parametrize("amount", [-2.88e-13, 2.88e-13, "-0", "1e3", " 12", True])
def test_money_outside_the_schema_is_refused(partner_a, api_client_for, amount) -> None:
    api = api_client_for(partner_a, scopes=["inventory:read", "inventory:write"])

    response = api.post(
        "/api/v1/products", {"sku": "MUG", "name": "Mug", "declared_value": amount}, content_type="application/json"
    )

    assert response.status_code == 422, response.content
    assert [e["field"] for e in response.json()["errors"]] == ["declared_value"]


def test_money_as_a_float_multiple_of_a_cent_is_that_amount(partner_a, api_client_for) -> None:
    api = api_client_for(partner_a, scopes=["inventory:read", "inventory:write"])

    response = api.post(
        "/api/v1/products", {"sku": "MUG", "name": "Mug", "declared_value": 57 * 0.01}, content_type="application/json"
    )

    assert response.json()["declared_value"] == "0.57"
