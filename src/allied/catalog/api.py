from django.db import transaction
from django.http import HttpRequest
from ninja import Query, Router, Status

from allied.accounts.policy import CATALOG_VIEW, require
from allied.catalog.schemas import (
    ProductBulkResultSchema,
    ProductBulkUpsertSchema,
    ProductCreateSchema,
    ProductPageSchema,
    ProductSchema,
    ProductUpdateSchema,
)
from allied.catalog.selectors import access_product, products_visible_to
from allied.catalog.services import product_create, product_update, product_upsert_many
from allied.core.pagination import paginate_by_id
from allied.core.schemas import PROBLEM_STATUSES, Cursor, Limit, ProblemSchema, QueryInput

router = Router(tags=["Products"])

_PRODUCT_EXAMPLE = {
    "id": 1042,
    "sku": "TEE-BLK-M",
    "name": "Black tee, medium",
    "barcodes": ["4006381333931"],
    "weight_grams": 180,
    "length_mm": 300,
    "width_mm": 220,
    "height_mm": 20,
    "declared_value": "1500.00",
    "currency": "PKR",
    "tracks_lots": False,
    "tracks_expiry": False,
    "is_active": True,
}


def _json_example(summary: str, value: object) -> dict:
    return {"content": {"application/json": {"examples": {"example": {"summary": summary, "value": value}}}}}


class ProductFilters(QueryInput):
    search: str = ""
    cursor: Cursor | None = None
    limit: Limit = 50


@router.get(
    "/products",
    response={200: ProductPageSchema, PROBLEM_STATUSES: ProblemSchema},
    summary="List products",
    operation_id="products_list",
)
def products_list(request: HttpRequest, filters: Query[ProductFilters]) -> dict:
    """Your organization's products, oldest first. Needs the `inventory:read` scope."""
    actor = request.auth  # type: ignore[attr-defined]
    require(actor, CATALOG_VIEW)
    page = paginate_by_id(products_visible_to(actor, search=filters.search), cursor=filters.cursor, limit=filters.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


# Declared before /products/{product_id}, whose path would otherwise also match /products/bulk.
@router.post(
    "/products/bulk",
    response={200: ProductBulkResultSchema, PROBLEM_STATUSES: ProblemSchema},
    summary="Create or update products in bulk",
    operation_id="products_bulk_upsert",
    openapi_extra={
        "requestBody": _json_example(
            "One new product and a price change for an existing one",
            {
                "items": [
                    {"sku": "TEE-BLK-M", "name": "Black tee, medium", "weight_grams": 180, "declared_value": "1500.00"},
                    {"sku": "MUG-WHT", "name": "White mug", "declared_value": "950.00", "is_active": True},
                ]
            },
        ),
        "responses": {
            200: {"description": "Every item is stored."}
            | _json_example(
                "One created, one updated",
                {
                    "created": 1,
                    "updated": 1,
                    "unchanged": 0,
                    "items": [
                        _PRODUCT_EXAMPLE,
                        _PRODUCT_EXAMPLE
                        | {
                            "id": 977,
                            "sku": "MUG-WHT",
                            "name": "White mug",
                            "barcodes": [],
                            "declared_value": "950.00",
                        },
                    ],
                },
            ),
            422: {"description": "At least one item is invalid; nothing is stored."}
            | _json_example(
                "The third item's weight is negative",
                {
                    "type": "https://allied.example/problems/validation-failed",
                    "title": "Some fields are not valid",
                    "status": 422,
                    "detail": "items[2].weight_grams: Input should be greater than or equal to 0",
                    "code": "validation_failed",
                    "instance": "/api/v1/products/bulk",
                    "request_id": "5f0c6b7e2b8a4c1d9e3f4a5b6c7d8e9f",
                    "errors": [
                        {
                            "field": "items[2].weight_grams",
                            "message": "Input should be greater than or equal to 0",
                            "code": "greater_than_equal",
                        }
                    ],
                },
            ),
        },
    },
)
def products_bulk_upsert(request: HttpRequest, payload: ProductBulkUpsertSchema) -> dict:
    """Create or update up to 500 products by SKU in one transaction. Needs `inventory:write`.

    A SKU you already have is updated: only the fields you send change. A new SKU is created and needs a
    `name`; unsent fields take their defaults. All or nothing: if any item is invalid (or a SKU appears
    twice) the answer is a 422 problem naming each bad field as `items[i].field`, and nothing is stored.
    """
    actor = request.auth  # type: ignore[attr-defined]
    items = [item.model_dump(exclude_unset=True) for item in payload.items]
    with transaction.atomic(durable=True):
        result = product_upsert_many(organization=actor.organization, items=items, actor=actor)
    return {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "items": result.products,
    }


@router.get(
    "/products/{product_id}",
    response={200: ProductSchema, PROBLEM_STATUSES: ProblemSchema},
    summary="Get a product",
    operation_id="products_get",
)
def products_get(request: HttpRequest, product_id: int) -> object:
    """One product by id. Products of other organizations answer 404."""
    return access_product(request.auth, product_id, for_update=False)  # type: ignore[attr-defined]


@router.patch(
    "/products/{product_id}",
    response={200: ProductSchema, PROBLEM_STATUSES: ProblemSchema},
    summary="Update a product",
    operation_id="products_update",
    openapi_extra={
        "requestBody": _json_example("A new weight and price", {"weight_grams": 200, "declared_value": "1750.00"}),
        "responses": {
            200: {"description": "The product as it is now."}
            | _json_example("Updated", _PRODUCT_EXAMPLE | {"weight_grams": 200, "declared_value": "1750.00"})
        },
    },
)
def products_update(request: HttpRequest, product_id: int, payload: ProductUpdateSchema) -> object:
    """Change some fields of a product: only the fields you send change. Needs `inventory:write`.

    Set `is_active` to false to retire a product (there is no delete). A new `sku` that another of your
    products has answers 409; products of other organizations answer 404.
    """
    actor = request.auth  # type: ignore[attr-defined]
    with transaction.atomic(durable=True):
        product = access_product(actor, product_id, for_update=True)
        return product_update(product=product, actor=actor, **payload.model_dump(exclude_unset=True))


@router.post(
    "/products",
    response={201: ProductSchema, PROBLEM_STATUSES: ProblemSchema},
    summary="Create a product",
    operation_id="products_create",
)
def products_create(request: HttpRequest, payload: ProductCreateSchema) -> Status:
    """Add a product to your catalog. Needs `inventory:write`. A SKU you already have answers 409."""
    actor = request.auth  # type: ignore[attr-defined]
    with transaction.atomic(durable=True):
        product = product_create(organization=actor.organization, actor=actor, **payload.model_dump())
    return Status(201, product)
