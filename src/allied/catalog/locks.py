"""The only place catalog rows are locked: always in primary-key order, so two imports that touch
the same products wait for each other instead of deadlocking."""

from collections.abc import Iterable

from allied.accounts.models import Organization
from allied.catalog.models import Product


def products_by_sku_for_update(*, organization: Organization, skus: Iterable[str]) -> dict[str, Product]:
    """Lock a partner's existing products with these SKUs (callers send at most a few thousand);
    SKUs not in the catalog are simply absent from the answer."""
    queryset = (
        Product.objects.filter(organization=organization, sku__in=sorted(set(skus)))
        .select_related("organization")
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    return {product.sku: product for product in queryset}
