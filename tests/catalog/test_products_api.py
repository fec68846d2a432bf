import json

import pytest
from django.test import Client

from allied.catalog.models import Product
from allied.core.models import DomainEvent
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db

VALID = {"sku": "TEE-BLK-M", "name": "Black tee, medium", "weight_grams": 180, "declared_value": "1500.00"}


def post_json(client: Client, body: object, **kwargs: object) -> object:
    return client.post("/api/v1/products", data=json.dumps(body), content_type="application/json", **kwargs)


def test_create_product_records_domain_event(partner_a: object, api_client_for: object) -> None:
    api = api_client_for(partner_a)  # type: ignore[operator]

    response = post_json(api, VALID)

    assert response.status_code == 201  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert (body["sku"], body["declared_value"], body["currency"]) == ("TEE-BLK-M", "1500.00", "PKR")
    product = Product.objects.get()
    assert product.organization == partner_a
    event = DomainEvent.objects.get()
    assert (event.type, event.organization, event.payload["sku"]) == ("product.created", partner_a, "TEE-BLK-M")


def test_same_sku_twice_is_409_naming_sku(partner_a: object, api_client_for: object) -> None:
    api = api_client_for(partner_a)  # type: ignore[operator]
    post_json(api, VALID)

    response = post_json(api, VALID | {"name": "Another"})

    assert response.status_code == 409  # type: ignore[attr-defined]
    assert response.json()["errors"][0]["field"] == "sku"  # type: ignore[attr-defined]
    assert Product.objects.get().name == "Black tee, medium"


def test_same_sku_in_another_partner_is_allowed(partner_a: object, partner_b: object, api_client_for: object) -> None:
    ProductFactory(organization=partner_b, sku="TEE-BLK-M")

    assert post_json(api_client_for(partner_a), VALID).status_code == 201  # type: ignore[operator, attr-defined]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (VALID | {"sku": ""}, "sku"),
        (VALID | {"sku": "has spaces inside"}, "sku"),
        (VALID | {"weight_grams": -5}, "weight_grams"),
        (VALID | {"declared_value": "12.345"}, "declared_value"),
        (VALID | {"declared_value": -1}, "declared_value"),
        (VALID | {"currency": "rupees"}, "currency"),
        (VALID | {"barcodes": "4006381333931"}, "barcodes"),
        (VALID | {"colour": "black"}, "colour"),
        ({"name": "no sku"}, "sku"),
    ],
)
def test_invalid_product_is_422_problem_naming_the_field(
    body: dict, field: str, partner_a: object, api_client_for: object
) -> None:
    response = post_json(api_client_for(partner_a), body)  # type: ignore[operator]

    assert response.status_code == 422  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/problem+json"  # type: ignore[index]
    problem = response.json()  # type: ignore[attr-defined]
    assert problem["code"] == "validation_failed"
    assert field in [error["field"] for error in problem["errors"]]
    assert not Product.objects.exists()


def test_malformed_json_is_400_problem(partner_a: object, api_client_for: object) -> None:
    api = api_client_for(partner_a)  # type: ignore[operator]

    response = api.post("/api/v1/products", data='{"sku": "A", "name": ', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"
    assert not Product.objects.exists()


def test_wrong_content_type_is_415_problem(partner_a: object, api_client_for: object) -> None:
    api = api_client_for(partner_a)  # type: ignore[operator]

    response = api.post("/api/v1/products", data="sku=A&name=B", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert not Product.objects.exists()


def test_ten_megabyte_body_is_413_problem(partner_a: object, api_client_for: object) -> None:
    api = api_client_for(partner_a)  # type: ignore[operator]
    huge = json.dumps(VALID | {"name": "x" * (10 * 1024 * 1024)})

    response = api.post("/api/v1/products", data=huge, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert not Product.objects.exists()


def test_write_needs_inventory_write_scope(partner_a: object, api_client_for: object) -> None:
    api = api_client_for(partner_a, scopes=["inventory:read"])  # type: ignore[operator]

    response = post_json(api, VALID)

    assert response.status_code == 403  # type: ignore[attr-defined]
    assert not Product.objects.exists()


def test_list_is_cursor_paginated_and_scoped_to_the_key(
    partner_a: object, partner_b: object, api_client_for: object
) -> None:
    ProductFactory.create_batch(5, organization=partner_a)
    ProductFactory.create_batch(3, organization=partner_b)
    api = api_client_for(partner_a, scopes=["inventory:read"])  # type: ignore[operator]

    first = api.get("/api/v1/products", {"limit": 3}).json()
    second = api.get("/api/v1/products", {"limit": 3, "cursor": first["next_cursor"]}).json()

    skus = [p["sku"] for p in first["items"] + second["items"]]
    assert skus == list(Product.objects.filter(organization=partner_a).order_by("pk").values_list("sku", flat=True))
    assert second["next_cursor"] is None


def test_bad_cursor_and_limit_are_problems(partner_a: object, api_client_for: object) -> None:
    api = api_client_for(partner_a, scopes=["inventory:read"])  # type: ignore[operator]

    assert api.get("/api/v1/products", {"cursor": "!!"}).json()["errors"][0]["field"] == "cursor"
    assert api.get("/api/v1/products", {"limit": 0}).json()["errors"][0]["field"] == "limit"
    assert api.get("/api/v1/products", {"limit": "many"}).json()["errors"][0]["field"] == "limit"


def test_unknown_api_path_is_404_problem(partner_a: object, api_client_for: object) -> None:
    response = api_client_for(partner_a).get("/api/v1/no-such-thing")  # type: ignore[operator]

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_openapi_schema_documents_products_and_bearer_auth(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()

    assert {"/api/v1/products", "/api/v1/products/{product_id}", "/api/v1/me"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"]["scheme"] == "bearer"


def test_api_docs_page_loads_its_assets_locally(client: Client) -> None:
    html = client.get("/api/v1/docs").content.decode()

    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
