"""Warehouse pages for stock: receiving announced shipments and putting units away."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from allied.accounts import policy
from allied.accounts.decorators import permission_required
from allied.catalog.models import Product
from allied.catalog.selectors import access_product
from allied.core.errors import FORM_ERRORS, FieldError, NotFound, ValidationFailed
from allied.core.forms import form_add_domain_error
from allied.inventory.forms import AdjustForm, CountForm, InboundForm, PutAwayForm
from allied.inventory.models import BinKind, CountStatus, InboundStatus
from allied.inventory.selectors import (
    access_bin,
    access_cycle_count,
    access_inbound,
    bin_stock_of_bin,
    counts_needing_recount,
    default_warehouse,
    inbound_shipments_visible_to,
    ledger_visible_to,
    product_in_bin_by_code,
    product_in_bin_or_catalog,
    products_for_lines,
    stock_levels_visible_to,
)
from allied.inventory.services import (
    cycle_count_record,
    cycle_count_recount,
    dock_of,
    inbound_create,
    inbound_receive,
    stock_adjust,
    stock_put_away,
)


@permission_required(policy.CONSOLE_ACCESS)
def inbound_list(request: HttpRequest) -> HttpResponse:
    shipments = inbound_shipments_visible_to(request.actor).prefetch_related("lines")  # type: ignore[attr-defined]
    return render(
        request,
        "inventory/inbound_list.html",
        {
            "announced": shipments.filter(status=InboundStatus.ANNOUNCED),
            "recent": shipments.exclude(status=InboundStatus.ANNOUNCED)[:30],
        },
    )


def _received_quantities(request: HttpRequest, line_ids: list[int]) -> dict[int, tuple[int, int]]:
    received, errors = {}, []
    for line_id in line_ids:
        values = []
        for kind in ("good", "damaged"):
            raw = request.POST.get(f"{kind}-{line_id}", "").strip() or "0"
            if not raw.isdigit():
                errors.append(FieldError(f"{kind}-{line_id}", "Enter a whole number of units."))
                raw = "0"
            values.append(int(raw))
        received[line_id] = (values[0], values[1])
    if errors:
        raise ValidationFailed("Some quantities are not whole numbers.", errors=errors)
    return received


@permission_required(policy.WAREHOUSE_MANAGE)
def inbound_receive_view(request: HttpRequest, inbound_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if not actor.is_operator:
        raise NotFound("No such inbound shipment.")
    inbound = access_inbound(actor, inbound_id)
    problems: list[str] = []
    if request.method == "POST":
        try:
            received = _received_quantities(request, [line.pk for line in inbound.lines.all()])
            with transaction.atomic(durable=True):
                inbound_receive(inbound=inbound, received=received, actor=actor)
        except FORM_ERRORS as error:
            problems = [f"{e.field}: {e.message}" for e in error.errors] or [error.detail]
        else:
            messages.success(request, f"{inbound.reference} received. Put the units on the dock away next.")
            return redirect("put_away")
        inbound = access_inbound(actor, inbound_id)
    return render(request, "inventory/inbound_receive.html", {"inbound": inbound, "problems": problems})


@permission_required(policy.WAREHOUSE_MANAGE)
def put_away(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if not actor.is_operator:
        raise NotFound("Not found.")
    warehouse = default_warehouse()
    dock = dock_of(warehouse, BinKind.RECEIVING)
    form = PutAwayForm(request.POST or None, initial={"from_bin": dock.code})
    if request.method == "POST" and form.is_valid():
        try:
            from_bin = access_bin(actor, warehouse, form.cleaned_data["from_bin"])
            product = product_in_bin_by_code(actor, from_bin, form.cleaned_data["code"])
            with transaction.atomic(durable=True):
                stock_put_away(
                    product=product,
                    from_bin=from_bin,
                    to_bin=access_bin(actor, warehouse, form.cleaned_data["to_bin"]),
                    quantity=form.cleaned_data["quantity"],
                    actor=actor,
                )
        except FORM_ERRORS as error:
            form_add_domain_error(form, error)
        else:
            messages.success(
                request,
                f"{form.cleaned_data['quantity']} × {product.sku} put away in {form.cleaned_data['to_bin'].upper()}.",
            )
            return redirect("put_away")
    return render(
        request, "inventory/put_away.html", {"form": form, "dock": dock, "waiting": bin_stock_of_bin(actor, dock)}
    )


@permission_required(policy.INVENTORY_VIEW)
def stock_levels(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    search = request.GET.get("q", "").strip()
    levels = stock_levels_visible_to(actor)
    if search:
        levels = levels.filter(Q(product__sku__icontains=search) | Q(product__name__icontains=search))
    if actor.is_operator and request.GET.get("partner"):
        levels = levels.filter(organization__slug=request.GET["partner"])
    page = Paginator(levels, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "q": search,
        "area": "ops" if actor.is_operator else "portal",
        "recounts": counts_needing_recount(actor) if actor.is_operator else [],
    }
    template = "inventory/stock_levels.html#results" if request.htmx else "inventory/stock_levels.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@permission_required(policy.INVENTORY_VIEW)
def product_ledger(request: HttpRequest, product_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    product = access_product(actor, product_id, for_update=False)
    page = Paginator(ledger_visible_to(actor, product_id=product.pk), 100).get_page(request.GET.get("page"))
    context = {"product": product, "page": page, "area": "ops" if actor.is_operator else "portal"}
    return render(request, "inventory/product_ledger.html", context)


@permission_required(policy.WAREHOUSE_MANAGE)
def stock_correct(request: HttpRequest) -> HttpResponse:
    """Adjustments with a reason code, and cycle counts (a mismatch asks for a recount)."""
    actor = request.actor  # type: ignore[attr-defined]
    if not actor.is_operator:
        raise NotFound("Not found.")
    warehouse = default_warehouse()
    action = request.POST.get("action", "")
    adjust_form = AdjustForm(request.POST if action == "adjust" else None, prefix="adjust")
    count_form = CountForm(request.POST if action == "count" else None, prefix="count")
    form = adjust_form if action == "adjust" else count_form
    if request.method == "POST" and action in {"adjust", "count"} and form.is_valid():
        data = form.cleaned_data
        try:
            bin = access_bin(actor, warehouse, data["bin"])
            product = product_in_bin_or_catalog(actor, bin, data["code"])
            with transaction.atomic(durable=True):
                if action == "adjust":
                    stock_adjust(product=product, bin=bin, delta=data["delta"], reason=data["reason"],
                                 note=data["note"], actor=actor)  # fmt: skip
                    messages.success(request, f"{product.sku} in {bin.code} adjusted by {data['delta']:+d}.")
                else:
                    count = cycle_count_record(product=product, bin=bin, counted=data["counted"], actor=actor)
                    if count.status == CountStatus.RECOUNT:
                        messages.warning(
                            request,
                            f"The books say {count.expected_quantity}; count {product.sku} in {bin.code} again.",
                        )
                    else:
                        messages.success(request, f"{product.sku} in {bin.code}: count matches.")
        except FORM_ERRORS as error:
            form_add_domain_error(form, error)
        else:
            return redirect("stock_correct")
    context = {"adjust_form": adjust_form, "count_form": count_form, "recounts": counts_needing_recount(actor)}
    return render(request, "inventory/stock_correct.html", context)


@permission_required(policy.WAREHOUSE_MANAGE)
def recount(request: HttpRequest, count_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if not actor.is_operator or request.method != "POST":
        raise NotFound("Not found.")
    count = access_cycle_count(actor, count_id)
    raw = request.POST.get("counted", "").strip()
    try:
        if not raw.isdigit():
            raise ValidationFailed("Enter the units counted.", errors=[FieldError("counted", "A whole number.")])
        with transaction.atomic(durable=True):
            cycle_count_recount(count=count, counted=int(raw), actor=actor)
    except FORM_ERRORS as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"{count.product.sku} in {count.bin.code} set to {raw} units.")
    return redirect("stock_correct")


@permission_required(policy.INVENTORY_VIEW)
def inbound_portal(request: HttpRequest) -> HttpResponse:
    """Partners announce shipments (ASNs) and follow what was received."""
    actor = request.actor  # type: ignore[attr-defined]
    if actor.is_operator:
        return redirect("inbound_list")
    form = InboundForm(request.POST or None)
    if request.method == "POST":
        policy.require(actor, policy.INVENTORY_MANAGE)
        if form.is_valid():
            try:
                lines = _parse_inbound_lines(actor, form.cleaned_data["lines"])
                with transaction.atomic(durable=True):
                    inbound = inbound_create(
                        organization=actor.organization, warehouse=default_warehouse(), actor=actor, lines=lines,
                        reference=form.cleaned_data["reference"], expected_on=form.cleaned_data["expected_on"],
                        notes=form.cleaned_data["notes"],
                    )  # fmt: skip
            except FORM_ERRORS as error:
                form_add_domain_error(form, error)
            else:
                messages.success(request, f"{inbound.reference} announced. AES will record what arrives.")
                return redirect("portal_inbound_detail", inbound_id=inbound.pk)
    shipments = inbound_shipments_visible_to(actor).prefetch_related("lines")[:100]
    return render(request, "inventory/inbound_portal.html", {"form": form, "shipments": shipments})


@permission_required(policy.INVENTORY_VIEW)
def inbound_portal_detail(request: HttpRequest, inbound_id: int) -> HttpResponse:
    inbound = access_inbound(request.actor, inbound_id)  # type: ignore[attr-defined]
    return render(request, "inventory/inbound_detail.html", {"inbound": inbound})


def _parse_inbound_lines(actor: policy.Actor, text: str) -> list[tuple[Product, int]]:
    """`SKU, quantity` per line into products of the actor's catalog (`products_for_lines`, as
    the API does), every bad line named by its number in the text."""
    wanted, errors = [], []
    for number, raw in enumerate(filter(None, (row.strip() for row in text.splitlines())), start=1):
        sku, _, quantity = (part.strip() for part in raw.replace(";", ",").partition(","))
        if not quantity.isdigit() or int(quantity) < 1:
            errors.append(FieldError("lines", f"Line {number}: give a quantity of at least 1 after the SKU."))
            continue
        wanted.append((number, sku, int(quantity)))
    try:
        products = products_for_lines(actor.organization, [(sku, quantity) for _, sku, quantity in wanted])
    except ValidationFailed as unknown:
        numbers = {f"lines[{index}].sku": number for index, (number, _, _) in enumerate(wanted)}
        errors += [FieldError("lines", f"Line {numbers[e.field]}: {e.message}") for e in unknown.errors]
    if errors:
        raise ValidationFailed("Some lines are not valid.", errors=errors)
    return products
