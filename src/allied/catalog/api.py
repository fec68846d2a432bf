from django.db import transaction
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from allied.accounts.policy import CATALOG_VIEW, require
from allied.catalog.schemas import ProductCreateSchema, ProductPageSchema, ProductSchema
from allied.catalog.selectors import access_product, products_visible_to
from allied.catalog.services import product_create
from allied.core.pagination import paginate_by_id
from allied.core.schemas import PROBLEM_STATUSES, ProblemSchema

router = Router(tags=["Products"])


class ProductFilters(Schema):
    search: str = ""
    cursor: str | None = None
    limit: int = 50


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


@router.get(
    "/products/{product_id}",
    response={200: ProductSchema, PROBLEM_STATUSES: ProblemSchema},
    summary="Get a product",
    operation_id="products_get",
)
def products_get(request: HttpRequest, product_id: int) -> object:
    """One product by id. Products of other organizations answer 404."""
    return access_product(request.auth, product_id, for_update=False)  # type: ignore[attr-defined]


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
