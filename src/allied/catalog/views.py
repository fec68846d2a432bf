from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from allied.accounts import policy
from allied.accounts.decorators import permission_required
from allied.accounts.roles import OrganizationKind
from allied.accounts.selectors import organizations_visible_to
from allied.catalog.selectors import access_product, products_visible_to


@permission_required(policy.CATALOG_VIEW)
def product_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    search = request.GET.get("q", "").strip()
    partner = request.GET.get("partner", "") if actor.is_operator else ""
    products = products_visible_to(actor, search=search, organization_slug=partner)
    page = Paginator(products, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "q": search,
        "partner": partner,
        "partners": organizations_visible_to(actor).filter(kind=OrganizationKind.PARTNER) if actor.is_operator else [],
    }
    template = "catalog/product_list.html#results" if request.htmx else "catalog/product_list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@permission_required(policy.CATALOG_VIEW)
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    product = access_product(request.actor, product_id, for_update=False)  # type: ignore[attr-defined]
    return render(request, "catalog/product_detail.html", {"product": product})
