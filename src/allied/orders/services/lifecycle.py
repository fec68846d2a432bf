"""Every move of an order after intake. Each transition locks the order, checks the transition
table, writes, appends timeline and domain events, all in one transaction. Order rows are locked
before stock."""

import string
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from allied.accounts.policy import DELIVERY_RECORD, ORDERS_FULFIL, ORDERS_MANAGE, Actor, require
from allied.core.carriers import carrier_get
from allied.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from allied.core.event_types import ORDER_CREATED, ORDER_STATUS_CHANGED
from allied.inventory.events import stock_levels_changed
from allied.inventory.locks import stock_for_update
from allied.inventory.models import BinKind, MoveReason, StockMove
from allied.inventory.services import (
    Reference,
    availability_announce,
    dock_of,
    stock_move,
    stock_put_back,
    stock_take_from_bins,
)
from allied.orders.allocation import allocate, status_after_allocation
from allied.orders.events import order_domain_event, timeline_event
from allied.orders.locks import order_for_update
from allied.orders.models import Order, OrderEvent, OrderLine, OrderStatus, PaymentMethod
from allied.orders.services.intake import new_order_number
from allied.orders.state import check_transition
from allied.orders.tracking import tracking_code_new

NUMBER_ALPHABET = string.ascii_uppercase.replace("O", "").replace("I", "") + "23456789"


def order_allocate_backordered(*, order_id: int, actor: Actor) -> Order:
    """Give a backordered order whatever has become available (one order per transaction, so the
    oldest order is served first and locks stay short)."""
    require(actor, ORDERS_FULFIL)
    with transaction.atomic(savepoint=False):
        order = order_for_update(order_id)
        if order.status != OrderStatus.BACKORDERED:
            return order
        lines = list(order.lines.all())
        moves, changed = allocate(order, lines, actor)
        if not moves:
            return order
        StockMove.objects.bulk_create(moves)
        stock_levels_changed(changed, cause="order.allocated")
        OrderLine.objects.bulk_update(lines, ["allocated_quantity"])
        status = status_after_allocation(lines)
        events = [
            timeline_event(
                order,
                type="stock_allocated",
                actor=actor,
                payload={"lines": {line.sku: line.allocated_quantity for line in lines}},
            )
        ]
        if status != order.status:
            check_transition(order.status, status)
            events.append(timeline_event(order, type=status, actor=actor, from_status=order.status, to_status=status))
            order.status = status
            order.save(update_fields=["status", "updated_at"])
            order_domain_event(order, type=ORDER_STATUS_CHANGED[OrderStatus.ALLOCATED], lines=lines)
        OrderEvent.objects.bulk_create(events)
        return order


def orders_backordered_for(*, warehouse_id: int, product_ids: list[int]) -> list[int]:
    """Backordered orders waiting for these products, oldest first."""
    return list(
        Order.objects.filter(
            warehouse_id=warehouse_id,
            status=OrderStatus.BACKORDERED,
            lines__product_id__in=product_ids,
            lines__allocated_quantity__lt=F("lines__quantity"),
        )
        .order_by("created_at", "id")
        .values_list("pk", flat=True)
        .distinct()
    )


def _check_tenant(actor: Actor, order: Order) -> None:
    """A partner acts only on its own orders; anything else does not exist for it."""
    if not actor.is_operator and actor.organization != order.organization:
        raise NotFound("No such order.")


def _transition(order: Order, target: str, *, actor: Actor, event_type: str = "", **payload: object) -> None:
    check_transition(order.status, target)
    previous = order.status
    order.status = target
    order.save(update_fields=["status", "updated_at", *payload.pop("fields", [])])  # type: ignore[misc]
    timeline_event(
        order,
        type=event_type or target,
        actor=actor,
        from_status=previous,
        to_status=target,
        payload={k: str(v) for k, v in payload.items()},
    ).save()
    order_domain_event(order, type=ORDER_STATUS_CHANGED[target])


@transaction.atomic(savepoint=False)
def order_cancel(*, order: Order, reason: str, actor: Actor) -> Order:
    """Cancel before handover: reservations are released, picked units go back to the receiving
    dock to be put away, and waiting orders may take the freed units."""
    require(actor, ORDERS_MANAGE)
    order = order_for_update(order.pk)
    _check_tenant(actor, order)
    if order.status == OrderStatus.CANCELLED:
        return order
    check_transition(order.status, OrderStatus.CANCELLED)
    lines = [line for line in order.lines.select_related("product") if line.allocated_quantity]
    moves = []
    if lines:
        stocks = stock_for_update(warehouse=order.warehouse, product_ids=[line.product_id for line in lines])
        reference = Reference("order", str(order.pk))
        dock = dock_of(order.warehouse, BinKind.RECEIVING) if any(line.picked_quantity for line in lines) else None
        for line in lines:
            stock = stocks[line.product_id]
            unpicked = line.allocated_quantity - line.picked_quantity
            if unpicked:
                moves.append(
                    stock_move(stock, reason=MoveReason.RELEASE, actor=actor, reference=reference, reserved=-unpicked)
                )
            if line.picked_quantity and dock is not None:
                moves.append(
                    stock_put_back(
                        stock,
                        product=line.product,
                        bin=dock,
                        quantity=line.picked_quantity,
                        reason=MoveReason.UNPICK,
                        reference=reference,
                        actor=actor,
                    )
                )
            line.allocated_quantity = line.picked_quantity = line.packed_quantity = 0
        StockMove.objects.bulk_create(moves)
        stock_levels_changed(stocks.values(), cause="order.cancelled")
        OrderLine.objects.bulk_update(lines, ["allocated_quantity", "picked_quantity", "packed_quantity"])
    _transition(order, OrderStatus.CANCELLED, actor=actor, reason=reason)
    availability_announce(order.warehouse, [line.product_id for line in lines])
    return order


@transaction.atomic(savepoint=False)
def order_start_picking(*, order: Order, actor: Actor) -> Order:
    """Warehouse staff start on the order (AES only); starting twice changes nothing."""
    require(actor, ORDERS_FULFIL)
    order = order_for_update(order.pk)
    if order.status != OrderStatus.PICKING:
        _transition(order, OrderStatus.PICKING, actor=actor)
    return order


def _line_for_scan(order: Order, code: str) -> OrderLine:
    code = code.strip()
    for line in order.lines.select_related("product"):
        if code == line.sku or code in line.product.barcodes:
            return line
    raise ValidationFailed(f"{code} is not in order {order.number}.", errors=[FieldError("code", "Not in this order.")])


@transaction.atomic(savepoint=False)
def order_pick(*, order: Order, code: str, quantity: int, actor: Actor, bin_code: str = "") -> OrderLine:
    """Record units picked for a line, scanned by SKU or barcode, from a bin (or in walking order)."""
    require(actor, ORDERS_FULFIL)
    order = order_for_update(order.pk)
    if order.status != OrderStatus.PICKING:
        raise Conflict(f"Order {order.number} is {order.get_status_display().lower()}, not being picked.")
    line = _line_for_scan(order, code)
    if quantity <= 0 or line.picked_quantity + quantity > line.allocated_quantity:
        left = line.allocated_quantity - line.picked_quantity
        raise ValidationFailed(
            f"{left} of {line.sku} left to pick.", errors=[FieldError("quantity", f"At most {left}.")]
        )
    bin = None
    if bin_code:
        bin = order.warehouse.bins.filter(code=bin_code.strip().upper()).first()
        if bin is None:
            raise ValidationFailed(f"No bin {bin_code}.", errors=[FieldError("bin", "Unknown bin.")])
    stock = stock_for_update(warehouse=order.warehouse, product_ids=[line.product_id])[line.product_id]
    StockMove.objects.bulk_create(
        stock_take_from_bins(
            stock,
            product=line.product,
            quantity=quantity,
            bin=bin,
            reference=Reference("order", str(order.pk)),
            actor=actor,
        )
    )
    stock_levels_changed([stock], cause="order.picked")
    line.picked_quantity += quantity
    line.save(update_fields=["picked_quantity"])
    timeline_event(order, type="picked", actor=actor, payload={"sku": line.sku, "quantity": quantity}).save()
    return line


@transaction.atomic(savepoint=False)
def order_pack(*, order: Order, scanned_codes: list[str], weight_grams: int, dimensions_mm: str, actor: Actor) -> Order:
    """Close the parcel: every picked unit must have been scanned at the packing bench, and nothing else."""
    require(actor, ORDERS_FULFIL)
    order = order_for_update(order.pk)
    check_transition(order.status, OrderStatus.PACKED)
    lines = list(order.lines.select_related("product"))
    if any(line.picked_quantity < line.quantity for line in lines):
        raise Conflict("Pick every unit before packing.", errors=[FieldError("lines", "Not fully picked.")])
    counted: dict[int, int] = {}
    for code in scanned_codes:
        line = next((ln for ln in lines if code.strip() == ln.sku or code.strip() in ln.product.barcodes), None)
        if line is None:
            raise ValidationFailed(f"{code} does not belong in this parcel.", errors=[FieldError("scans", code)])
        counted[line.pk] = counted.get(line.pk, 0) + 1
    wrong = [
        f"{ln.sku}: scanned {counted.get(ln.pk, 0)} of {ln.picked_quantity}"
        for ln in lines
        if counted.get(ln.pk, 0) != ln.picked_quantity
    ]
    if wrong:
        raise ValidationFailed(
            "The parcel does not match the order: " + "; ".join(wrong),
            errors=[FieldError("scans", message) for message in wrong],
        )
    if weight_grams <= 0:
        raise ValidationFailed("Weigh the parcel.", errors=[FieldError("weight_grams", "Must be more than 0.")])
    for line in lines:
        line.packed_quantity = line.picked_quantity
    OrderLine.objects.bulk_update(lines, ["packed_quantity"])
    order.tracking_code = tracking_code_new()
    order.package_weight_grams = weight_grams
    order.package_dimensions_mm = dimensions_mm.strip()
    _transition(
        order,
        OrderStatus.PACKED,
        actor=actor,
        fields=["tracking_code", "package_weight_grams", "package_dimensions_mm"],
    )
    return order


@transaction.atomic(savepoint=False)
def order_hand_over(*, order: Order, carrier: str, actor: Actor) -> Order:
    """The packed parcel leaves with a carrier (AES only); handing it to the same carrier again
    changes nothing."""
    require(actor, ORDERS_FULFIL)
    carrier = carrier_get(carrier).code
    order = order_for_update(order.pk)
    if order.status == OrderStatus.HANDED_OVER and order.carrier == carrier:
        return order
    order.carrier = carrier
    _transition(order, OrderStatus.HANDED_OVER, actor=actor, carrier=carrier, fields=["carrier"])
    return order


@transaction.atomic(savepoint=False)
def order_record_delivery(*, order: Order, delivered: bool, note: str, actor: Actor) -> Order:
    """The outcome of a delivery attempt: delivered, or failed (to be tried again or returned)."""
    require(actor, DELIVERY_RECORD)
    order = order_for_update(order.pk)
    target = OrderStatus.DELIVERED if delivered else OrderStatus.ATTEMPT_FAILED
    _transition(order, target, actor=actor, note=note)
    return order


@transaction.atomic(savepoint=False)
def order_mark_returned(*, order: Order, actor: Actor) -> Order:
    """The parcel is back at the warehouse after a failed delivery (AES only)."""
    require(actor, ORDERS_FULFIL)
    order = order_for_update(order.pk)
    _transition(order, OrderStatus.RETURNED, actor=actor)
    return order


@transaction.atomic(savepoint=False)
def order_split_backorder(*, order: Order, actor: Actor) -> Order:
    """Ship what is allocated now and move the missing units to a new order that waits for stock.

    The original order keeps its payment: cash on delivery is collected with the first parcel,
    so the remainder carries nothing to collect. Returns the new (backordered) order.
    """
    require(actor, ORDERS_MANAGE)
    order = order_for_update(order.pk)
    _check_tenant(actor, order)
    if order.status != OrderStatus.BACKORDERED:
        raise Conflict("Only a backordered order can be split.")
    lines = list(order.lines.all())
    if not any(line.allocated_quantity for line in lines):
        raise Conflict("Nothing is allocated yet, so there is nothing to ship now.")
    part = order.split_orders.count() + 2
    remainder = Order.objects.create(
        organization=order.organization,
        warehouse=order.warehouse,
        number=new_order_number(),
        channel=order.channel,
        external_id=f"{order.external_id}#{part}",
        split_from=order,
        recipient_name=order.recipient_name,
        recipient_phone=order.recipient_phone,
        recipient_email=order.recipient_email,
        **order.address.columns(),
        currency=order.currency,
        subtotal=sum((line.unit_price * line.missing_quantity for line in lines), Decimal("0")),
        total=sum((line.unit_price * line.missing_quantity for line in lines), Decimal("0")),
        payment_method=PaymentMethod.PREPAID,
        notes=order.notes,
        tags=order.tags,
        status=OrderStatus.BACKORDERED,
    )
    moved = [line for line in lines if line.missing_quantity]
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                organization=order.organization,
                order=remainder,
                product_id=line.product_id,
                sku=line.sku,
                name=line.name,
                quantity=line.missing_quantity,
                unit_price=line.unit_price,
            )
            for line in moved
        ]
    )
    for line in moved:
        if line.allocated_quantity:
            line.quantity = line.allocated_quantity
            line.save(update_fields=["quantity"])
        else:
            line.delete()
    OrderEvent.objects.bulk_create(
        [
            timeline_event(
                remainder,
                type="received",
                actor=actor,
                to_status=OrderStatus.BACKORDERED,
                payload={"split_from": order.number},
            ),
            timeline_event(order, type="split", actor=actor, payload={"remainder": remainder.number}),
        ]
    )
    _transition(order, OrderStatus.ALLOCATED, actor=actor, event_type="allocated")
    order_domain_event(remainder, type=ORDER_CREATED, lines=list(remainder.lines.all()), split_from=order.number)
    return remainder
