from django.db.models import Q, QuerySet

from allied.accounts.policy import CATALOG_VIEW, Actor, require
from allied.catalog.models import Product
from allied.core.errors import NotFound
from allied.core.sql import placeholders


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


def products_by_sku(organization_id: int, skus: list[str]) -> dict[str, Product]:
    """A partner's products by SKU, for order intake: only the columns intake needs, uncompiled SQL."""
    if not skus:
        return {}
    rows = Product.objects.raw(
        "SELECT id, organization_id, sku, name, is_active FROM catalog_product"  # noqa: S608
        f" WHERE organization_id = %s AND sku IN ({placeholders(skus)})",
        [organization_id, *skus],
    )
    return {product.sku: product for product in rows}
