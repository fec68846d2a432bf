from django.db.models import Q, QuerySet

from allied.accounts.policy import CATALOG_VIEW, Actor, require
from allied.catalog.models import Product
from allied.core.errors import NotFound


def products_by_sku_sql(*, organization_id: str, skus: str) -> str:
    """What the order intake needs of an organization's products, as SQL for its one lean
    statement: id, sku, name, is_active. `organization_id` an SQL expression, `skus` a condition on sku."""
    return f"SELECT id, sku, name, is_active FROM catalog_product WHERE organization_id = {organization_id} AND {skus}"  # noqa: S608


def products_visible_to(actor: Actor, *, search: str = "", organization_slug: str = "") -> QuerySet[Product]:
    require(actor, CATALOG_VIEW)
    products = Product.objects.visible_to(actor).select_related("organization")
    if organization_slug:
        products = products.filter(organization__slug=organization_slug)
    if search:
        products = products.filter(Q(sku__icontains=search) | Q(name__icontains=search))
    return products


def access_product(actor: Actor, product_id: int, *, for_update: bool) -> Product:
    require(actor, CATALOG_VIEW)
    queryset = Product.objects.visible_to(actor).select_related("organization")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    try:
        return queryset.get(pk=product_id)
    except Product.DoesNotExist:
        raise NotFound("No such product.") from None
