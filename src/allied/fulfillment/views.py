"""Warehouse floor pages: work queues, picking, packing, labels and handover to carriers."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from allied.accounts import policy
from allied.accounts.decorators import permission_required
from allied.core.errors import FORM_ERRORS, FieldError, NotFound, ValidationFailed
from allied.core.forms import form_add_domain_error
from allied.fulfillment.documents import packing_slip_pdf, shipping_label_pdf
from allied.fulfillment.forms import ManifestForm, OrderScanForm, ParcelForm, ScanForm, TrackingScanForm
from allied.fulfillment.models import PickListStatus, ReturnCondition
from allied.fulfillment.selectors import (
    access_manifest,
    access_pick_list,
    access_return,
    manifest_is_open,
    manifests_recent,
    orders_packed,
    orders_ready_to_pack,
    orders_ready_to_pick,
    pick_lists_open,
    pick_tasks,
    returns_expected,
    returns_visible_to,
)
from allied.fulfillment.services import (
    manifest_close,
    manifest_open,
    manifest_scan,
    pick_list_create,
    pick_list_scan,
    return_from_failed_delivery,
    return_receive,
    return_request,
)
from allied.inventory.selectors import default_warehouse, inbound_shipments_visible_to
from allied.orders.models import OrderStatus
from allied.orders.selectors import access_order, access_order_by_code
from allied.orders.services.lifecycle import order_pack


def _operator_page(request: HttpRequest) -> None:
    if not request.actor.is_operator:  # type: ignore[attr-defined]
        raise NotFound("Not found.")


@permission_required(policy.ORDERS_VIEW)
def warehouse_home(request: HttpRequest) -> HttpResponse:
    _operator_page(request)
    actor = request.actor  # type: ignore[attr-defined]
    return render(
        request,
        "fulfillment/warehouse_home.html",
        {
            "announced": inbound_shipments_visible_to(actor).filter(status="announced").count(),
            "to_pick": orders_ready_to_pick(actor).count(),
            "pick_lists": pick_lists_open(actor),
            "to_pack": len(orders_ready_to_pack(actor)),
            "packed": orders_packed(actor).count(),
            "returns": returns_expected(actor).count(),
        },
    )


@permission_required(policy.ORDERS_FULFIL)
def pick_list_new(request: HttpRequest) -> HttpResponse:
    _operator_page(request)
    if request.method != "POST":
        return redirect("warehouse_home")
    actor = request.actor  # type: ignore[attr-defined]
    size = request.POST.get("batch_size", "10")
    try:
        with transaction.atomic(durable=True):
            pick_list = pick_list_create(
                warehouse=default_warehouse(),
                actor=actor,
                batch_size=max(1, min(int(size) if size.isdigit() else 10, 50)),
            )
    except FORM_ERRORS as error:
        messages.error(request, error.detail)
        return redirect("warehouse_home")
    return redirect("pick_list", pick_list_id=pick_list.pk)


@permission_required(policy.ORDERS_FULFIL)
def pick_list_view(request: HttpRequest, pick_list_id: int) -> HttpResponse:
    _operator_page(request)
    actor = request.actor  # type: ignore[attr-defined]
    pick_list = access_pick_list(actor, pick_list_id)
    form = ScanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic(durable=True):
                task = pick_list_scan(
                    pick_list=pick_list, code=form.cleaned_data["code"], bin_code=form.cleaned_data["bin"], actor=actor
                )
        except FORM_ERRORS as error:
            form_add_domain_error(form, error)
        else:
            messages.success(
                request, f"Picked {task.quantity} × {task.sku} from {task.bin_code} for {task.order_number}."
            )
            return redirect("pick_list", pick_list_id=pick_list.pk)
    pick_list = access_pick_list(actor, pick_list_id)
    tasks = pick_tasks(pick_list)
    context = {"pick_list": pick_list, "tasks": tasks, "form": form, "done": pick_list.status == PickListStatus.DONE}
    return render(request, "fulfillment/pick_list.html", context)


@permission_required(policy.ORDERS_FULFIL)
def packing_queue(request: HttpRequest) -> HttpResponse:
    _operator_page(request)
    actor = request.actor  # type: ignore[attr-defined]
    form = OrderScanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            order = access_order_by_code(actor, form.cleaned_data["code"])
        except FORM_ERRORS as error:
            form_add_domain_error(form, error)
        else:
            return redirect("pack_order", order_id=order.pk)
    return render(request, "fulfillment/packing_queue.html", {"orders": orders_ready_to_pack(actor), "form": form})


def _scans(request: HttpRequest) -> list[str]:
    return [code for code in request.POST.getlist("scans") if code.strip()]


@permission_required(policy.ORDERS_FULFIL)
def pack_order(request: HttpRequest, order_id: int) -> HttpResponse:
    """Scan every unit into the parcel; the page keeps the scans until the parcel is closed."""
    _operator_page(request)
    actor = request.actor  # type: ignore[attr-defined]
    order = access_order(actor, order_id)
    scans = _scans(request)
    scan_form = ScanForm(prefix="scan")
    parcel_form = ParcelForm(prefix="parcel")
    lines = list(order.lines.select_related("product"))
    if request.method == "POST" and request.POST.get("action") == "scan":
        scan_form = ScanForm(request.POST, prefix="scan")
        if scan_form.is_valid():
            code = scan_form.cleaned_data["code"].strip()
            line = next((ln for ln in lines if code == ln.sku or code in ln.product.barcodes), None)
            if line is None:
                scan_form.add_error("code", f"{code} does not belong in this parcel.")
            elif sum(1 for s in scans if s == line.sku) >= line.picked_quantity:
                scan_form.add_error("code", f"All {line.picked_quantity} × {line.sku} are already in the parcel.")
            else:
                scans.append(line.sku)
                scan_form = ScanForm(prefix="scan")
    elif request.method == "POST" and request.POST.get("action") == "pack":
        parcel_form = ParcelForm(request.POST, prefix="parcel")
        if parcel_form.is_valid():
            try:
                with transaction.atomic(durable=True):
                    order_pack(order=order, scanned_codes=scans, actor=actor, **parcel_form.cleaned_data)
            except FORM_ERRORS as error:
                form_add_domain_error(parcel_form, error)
            else:
                messages.success(request, f"Parcel closed: {order.number}. Print the label and put it on the parcel.")
                return redirect("pack_order", order_id=order.pk)
    counted = [(line, sum(1 for s in scans if s == line.sku)) for line in lines]
    context = {
        "order": access_order(actor, order_id),
        "counted": counted,
        "scans": scans,
        "complete": all(count == line.picked_quantity for line, count in counted)
        and order.status == OrderStatus.PICKING,
        "scan_form": scan_form,
        "parcel_form": parcel_form,
    }
    return render(request, "fulfillment/pack_order.html", context)


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@permission_required(policy.ORDERS_VIEW)
def order_label(request: HttpRequest, order_id: int) -> HttpResponse:
    order = access_order(request.actor, order_id)  # type: ignore[attr-defined]
    if not order.tracking_code:
        raise NotFound("The label exists once the parcel is packed.")
    return _pdf(shipping_label_pdf(order), f"label-{order.tracking_code}.pdf")


@permission_required(policy.ORDERS_VIEW)
def order_packing_slip(request: HttpRequest, order_id: int) -> HttpResponse:
    order = access_order(request.actor, order_id)  # type: ignore[attr-defined]
    return _pdf(packing_slip_pdf(order), f"packing-slip-{order.number}.pdf")


@permission_required(policy.ORDERS_FULFIL)
def handover(request: HttpRequest) -> HttpResponse:
    _operator_page(request)
    actor = request.actor  # type: ignore[attr-defined]
    form = ManifestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic(durable=True):
            manifest = manifest_open(warehouse=default_warehouse(), carrier=form.cleaned_data["carrier"], actor=actor)
        return redirect("manifest", manifest_id=manifest.pk)
    context = {"manifests": manifests_recent(actor), "form": form, "packed": orders_packed(actor)}
    return render(request, "fulfillment/handover.html", context)


@permission_required(policy.ORDERS_FULFIL)
def manifest_view(request: HttpRequest, manifest_id: int) -> HttpResponse:
    _operator_page(request)
    actor = request.actor  # type: ignore[attr-defined]
    manifest = access_manifest(actor, manifest_id)
    form = TrackingScanForm(request.POST or None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "close":
                with transaction.atomic(durable=True):
                    manifest_close(manifest=manifest, actor=actor)
                count = manifest.parcels.count()
                parcels = ngettext("%(count)d parcel", "%(count)d parcels", count) % {"count": count}
                messages.success(request, f"{parcels} handed over to {manifest.carrier_name}.")
                return redirect("manifest", manifest_id=manifest.pk)
            if not form.is_valid():
                raise ValidationFailed("Scan a parcel.", errors=[FieldError("code", "Required.")])
            with transaction.atomic(durable=True):
                order = manifest_scan(manifest=manifest, code=form.cleaned_data["code"], actor=actor)
        except FORM_ERRORS as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, f"{order.tracking_code} scanned onto the manifest.")
            return redirect("manifest", manifest_id=manifest.pk)
    manifest = access_manifest(actor, manifest_id)
    context = {
        "manifest": manifest,
        "form": form,
        "is_open": manifest_is_open(manifest),
        "packed": orders_packed(actor),
    }
    return render(request, "fulfillment/manifest.html", context)


@require_POST
@permission_required(policy.ORDERS_MANAGE)
def order_return_request(request: HttpRequest, order_id: int) -> HttpResponse:
    """A partner announces which units of a delivered order are coming back."""
    actor = request.actor  # type: ignore[attr-defined]
    order = access_order(actor, order_id)
    lines = []
    for line in order.lines.all():
        raw = request.POST.get(f"return-{line.pk}", "").strip()
        if raw.isdigit() and int(raw) > 0:
            lines.append((line.sku, int(raw)))
    try:
        with transaction.atomic(durable=True):
            return_request(order=order, lines=lines, reason=request.POST.get("reason", ""), actor=actor)
    except FORM_ERRORS as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, "Return announced; AES will receive it at the warehouse.")
    return redirect("ops_order_detail" if actor.is_operator else "portal_order_detail", order_id=order.pk)


@require_POST
@permission_required(policy.ORDERS_FULFIL)
def order_return_failed(request: HttpRequest, order_id: int) -> HttpResponse:
    _operator_page(request)
    actor = request.actor  # type: ignore[attr-defined]
    order = access_order(actor, order_id)
    try:
        with transaction.atomic(durable=True):
            return_from_failed_delivery(order=order, actor=actor)
    except FORM_ERRORS as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, "The parcel is expected back at the warehouse.")
    return redirect("ops_order_detail", order_id=order.pk)


@permission_required(policy.ORDERS_VIEW)
def return_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    area = "ops" if actor.is_operator else "portal"
    return render(request, "fulfillment/return_list.html", {"returns": returns_visible_to(actor)[:200], "area": area})


@permission_required(policy.ORDERS_VIEW)
def return_detail(request: HttpRequest, return_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    area = "ops" if actor.is_operator else "portal"
    parcel_return = access_return(actor, return_id)
    if request.method == "POST":
        _operator_page(request)
        conditions = {line.pk: request.POST.get(f"condition-{line.pk}", "") for line in parcel_return.lines.all()}
        try:
            with transaction.atomic(durable=True):
                return_receive(parcel_return=parcel_return, conditions=conditions, actor=actor)
        except FORM_ERRORS as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, "Return received; restocked units are available again.")
        return redirect("ops_return_detail", return_id=parcel_return.pk)
    context = {"parcel_return": parcel_return, "conditions": ReturnCondition.choices, "area": area}
    return render(request, "fulfillment/return_detail.html", context)
