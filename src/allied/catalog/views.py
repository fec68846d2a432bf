"""Product pages of the console (/ops/products/) and the portal (/portal/products/): one set of views.

Operators see and manage every partner's products and choose the partner when creating or
importing; partners see and manage only their own.
"""

import csv
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from allied.accounts import policy
from allied.accounts.decorators import permission_required
from allied.accounts.models import Organization
from allied.accounts.roles import OrganizationKind
from allied.accounts.selectors import organizations_visible_to
from allied.catalog.forms import ProductForm, ProductImportForm
from allied.catalog.models import Product
from allied.catalog.product_csv import product_csv_header, product_csv_parse, product_csv_rows
from allied.catalog.selectors import access_product, products_visible_to
from allied.catalog.services import (
    product_create,
    product_deactivate,
    product_reactivate,
    product_update,
    product_upsert_many,
)
from allied.core.errors import FORM_ERRORS
from allied.core.forms import form_add_domain_error


def _area(actor: policy.Actor) -> str:
    """The prefix of this person's URL names: `ops` in AES's console, `portal` in a partner's portal."""
    return "ops" if actor.is_operator else "portal"


def _partners(actor: policy.Actor) -> QuerySet[Organization] | None:
    """The partners an operator chooses from; None for partners, who act for their own organization."""
    if not actor.is_operator:
        return None
    return organizations_visible_to(actor).filter(kind=OrganizationKind.PARTNER, is_active=True).order_by("name")


def _detail(actor: policy.Actor, product: Product) -> HttpResponse:
    return redirect(f"{_area(actor)}_product_detail", product_id=product.pk)


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
        "area": _area(actor),
        "filter_query": urlencode({k: v for k, v in (("q", search), ("partner", partner)) if v}),
    }
    template = "catalog/product_list.html#results" if request.htmx else "catalog/product_list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@permission_required(policy.CATALOG_VIEW)
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    product = access_product(actor, product_id, for_update=False)
    return render(request, "catalog/product_detail.html", {"product": product, "area": _area(actor)})


@permission_required(policy.CATALOG_MANAGE)
def product_new(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    partners = _partners(actor)
    form = ProductForm(request.POST or None, partners=partners, initial={"partner": request.GET.get("partner")})
    if request.method == "POST" and form.is_valid():
        organization = form.cleaned_data["partner"] if partners is not None else actor.organization
        try:
            with transaction.atomic(durable=True):
                product = product_create(organization=organization, actor=actor, **form.product_values)
        except FORM_ERRORS as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, f"{product.sku} is in the catalog.")
            return _detail(actor, product)
    return render(request, "catalog/product_form.html", {"form": form, "product": None, "area": _area(actor)})


@permission_required(policy.CATALOG_MANAGE)
def product_edit(request: HttpRequest, product_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    product = access_product(actor, product_id, for_update=False)
    form = ProductForm(request.POST or None, initial=ProductForm.initial_for(product))
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic(durable=True):
                product = product_update(
                    product=access_product(actor, product_id, for_update=True), actor=actor, **form.product_values
                )
        except FORM_ERRORS as error:
            if error.status == 404:
                raise
            form_add_domain_error(form, error)
        else:
            messages.success(request, f"{product.sku} is saved.")
            return _detail(actor, product)
    return render(request, "catalog/product_form.html", {"form": form, "product": product, "area": _area(actor)})


@require_POST
@permission_required(policy.CATALOG_MANAGE)
def product_deactivate_view(request: HttpRequest, product_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    with transaction.atomic(durable=True):
        product = product_deactivate(product=access_product(actor, product_id, for_update=True), actor=actor)
    messages.success(request, f"{product.sku} is deactivated. It stays in the catalog and can be reactivated.")
    return _detail(actor, product)


@require_POST
@permission_required(policy.CATALOG_MANAGE)
def product_reactivate_view(request: HttpRequest, product_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    with transaction.atomic(durable=True):
        product = product_reactivate(product=access_product(actor, product_id, for_update=True), actor=actor)
    messages.success(request, f"{product.sku} is active again.")
    return _detail(actor, product)


@permission_required(policy.CATALOG_MANAGE)
def product_import(request: HttpRequest) -> HttpResponse:
    """Upload a CSV: every row is checked first; a file with any bad row stores nothing, unless the
    person asked to import the valid rows. What is stored is stored in one transaction."""
    actor = request.actor  # type: ignore[attr-defined]
    partners = _partners(actor)
    form = ProductImportForm(
        request.POST or None, request.FILES or None, partners=partners, initial={"partner": request.GET.get("partner")}
    )
    context: dict[str, object] = {"form": form, "parsed": None, "result": None, "area": _area(actor)}
    if request.method == "POST" and form.is_valid():
        organization = form.cleaned_data["partner"] if partners is not None else actor.organization
        upload = form.cleaned_data["file"]
        try:
            parsed = product_csv_parse(upload, size=upload.size, organization_slug=organization.slug)
            context |= {"parsed": parsed, "organization": organization}
            if parsed.rows and (not parsed.errors or form.cleaned_data["import_valid_rows"]):
                with transaction.atomic(durable=True):
                    context["result"] = product_upsert_many(
                        organization=organization, items=[row.values for row in parsed.rows], actor=actor
                    )
        except FORM_ERRORS as error:
            form_add_domain_error(form, error)
    template = "catalog/product_import.html#importer" if request.htmx else "catalog/product_import.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@permission_required(policy.CATALOG_VIEW)
def product_export(request: HttpRequest) -> HttpResponse:
    """The products of the list page (same search and partner filter, all pages) as CSV that the
    import reads back; operators' files add a partner column."""
    actor = request.actor  # type: ignore[attr-defined]
    search = request.GET.get("q", "").strip()
    partner = request.GET.get("partner", "") if actor.is_operator else ""
    products = products_visible_to(actor, search=search, organization_slug=partner)
    with_partner = actor.is_operator
    label = slugify(partner) or ("all-partners" if actor.is_operator else actor.organization.slug)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="products-{label}-{timezone.localdate():%Y-%m-%d}.csv"'
    response["Cache-Control"] = "no-store"
    response.write("\ufeff")  # lets spreadsheet programs recognise UTF-8 (names in Urdu, for one)
    writer = csv.writer(response)
    writer.writerow(product_csv_header(with_partner=with_partner))
    writer.writerows(product_csv_rows(products.iterator(chunk_size=2000), with_partner=with_partner))
    return response
