"""Order pages, shared by the console (every partner) and the portal (one partner)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from allied.accounts import policy
from allied.accounts.decorators import permission_required
from allied.accounts.roles import OrganizationKind
from allied.accounts.selectors import organizations_visible_to
from allied.core.errors import FORM_ERRORS, PermissionDenied
from allied.core.forms import form_add_domain_error
from allied.orders.forms import OrderImportForm
from allied.orders.models import Channel, OrderStatus
from allied.orders.order_csv import order_csv_parse
from allied.orders.selectors import access_order, order_delivery_steps, orders_visible_to
from allied.orders.services.intake import orders_import
from allied.orders.services.lifecycle import order_cancel, order_record_delivery, order_split_backorder
from allied.orders.state import CANCELLABLE


def _area(request: HttpRequest) -> str:
    return "ops" if request.actor.is_operator else "portal"  # type: ignore[attr-defined]


@permission_required(policy.ORDERS_VIEW)
def order_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    filters = {
        "status": request.GET.get("status", ""),
        "channel": request.GET.get("channel", ""),
        "search": request.GET.get("q", "").strip(),
        "organization_slug": request.GET.get("partner", "") if actor.is_operator else "",
    }
    orders = orders_visible_to(
        actor,
        status=filters["status"],
        channel=filters["channel"],
        search=filters["search"],
        organization_slug=filters["organization_slug"],
    )
    page = Paginator(orders, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "statuses": OrderStatus.choices,
        "channels": Channel.choices,
        "partners": organizations_visible_to(actor).filter(kind=OrganizationKind.PARTNER) if actor.is_operator else [],
        "area": _area(request),
    }
    template = "orders/order_list.html#results" if request.htmx else "orders/order_list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@permission_required(policy.ORDERS_VIEW)
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    order = access_order(actor, order_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            with transaction.atomic(durable=True):
                if action == "cancel":
                    order_cancel(order=order, reason=request.POST.get("reason", ""), actor=actor)
                    messages.success(request, f"Order {order.number} is cancelled; its stock is released.")
                elif action == "split":
                    remainder = order_split_backorder(order=order, actor=actor)
                    messages.success(
                        request, f"Shipping what is in stock now; the rest waits as order {remainder.number}."
                    )
                elif action in {"delivered", "failed"}:
                    order_record_delivery(
                        order=order, delivered=action == "delivered", note=request.POST.get("note", ""), actor=actor
                    )
                    messages.success(request, "Delivery outcome recorded.")
                else:
                    raise PermissionDenied("That action is not available here.")
        except FORM_ERRORS as error:
            messages.error(request, error.detail)
        return redirect(f"{_area(request)}_order_detail", order_id=order.pk)
    context = {
        "order": order,
        "area": _area(request),
        "can_cancel": order.status in CANCELLABLE and policy.actor_can(actor, policy.ORDERS_MANAGE),
        "can_split": order.status == OrderStatus.BACKORDERED
        and policy.actor_can(actor, policy.ORDERS_MANAGE)
        and any(line.allocated_quantity for line in order.lines.all()),
        "can_bring_back": order.status == OrderStatus.ATTEMPT_FAILED and policy.actor_can(actor, policy.ORDERS_FULFIL),
        "can_record_delivery": order.status in {OrderStatus.HANDED_OVER, OrderStatus.ATTEMPT_FAILED}
        and policy.actor_can(actor, policy.DELIVERY_RECORD),
        "returns": order.returns.prefetch_related("lines__order_line"),  # type: ignore[attr-defined]
        "delivery_steps": order_delivery_steps(actor, order),
    }
    return render(request, "orders/order_detail.html", context)


@permission_required(policy.ORDERS_MANAGE)
def order_import(request: HttpRequest) -> HttpResponse:
    """Upload orders as CSV: the whole file is checked first; any bad order stores nothing unless the
    person chose to import the valid ones. Orders imported before are skipped, never duplicated."""
    actor = request.actor  # type: ignore[attr-defined]
    partners = organizations_visible_to(actor).filter(kind=OrganizationKind.PARTNER) if actor.is_operator else None
    form = OrderImportForm(request.POST or None, request.FILES or None, partners=partners)
    context: dict[str, object] = {"form": form, "parsed": None, "created": None, "area": _area(request)}
    if request.method == "POST" and form.is_valid():
        organization = form.cleaned_data["partner"] if partners is not None else actor.organization
        upload = form.cleaned_data["file"]
        try:
            parsed = order_csv_parse(upload, size=upload.size, organization=organization)
            context["parsed"] = parsed
            if parsed.orders and (not parsed.errors or form.cleaned_data["import_valid_orders"]):
                with transaction.atomic(durable=True):
                    intakes = orders_import(
                        organization=organization, orders=[data for _, data in parsed.orders], actor=actor
                    )
                context["created"] = [intake.order for intake in intakes if intake.created]
        except FORM_ERRORS as error:
            form_add_domain_error(form, error)
    return render(request, "orders/order_import.html", context)
