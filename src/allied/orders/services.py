"""Every write to orders. Each transition locks the order, checks the transition table, writes,
appends timeline and domain events, all in one transaction. Order rows are locked before stock."""

import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from allied.accounts.models import Organization
from allied.accounts.policy import ORDERS_MANAGE, Actor, require
from allied.core import sql
from allied.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from allied.core.events import domain_events_insert
from allied.core.models import remember_related
from allied.core.sql import Insert
from allied.inventory.events import stock_level_event_rows, stock_levels_changed
from allied.inventory.locks import stock_for_update
from allied.inventory.models import BinKind, MoveReason, Stock, StockMove, Warehouse
from allied.inventory.services import (
    Reference,
    availability_announce,
    dock_of,
    stock_move,
    stock_put_back,
    stock_reserve_statements,
    stock_take_from_bins,
)
from allied.orders.events import order_domain_event, order_event_row, timeline_event
from allied.orders.locks import ProductForIntake, intake_for_update, order_for_update
from allied.orders.models import Channel, IdempotencyRecord, Order, OrderEvent, OrderLine, OrderStatus, PaymentMethod
from allied.orders.state import check_transition

NUMBER_ALPHABET = string.ascii_uppercase.replace("O", "").replace("I", "") + "23456789"


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class OrderInput:
    channel: str
    external_id: str
    recipient_name: str
    recipient_phone: str
    address_line1: str
    address_city: str
    currency: str
    payment_method: str
    lines: list[LineInput]
    recipient_email: str = ""
    address_line2: str = ""
    address_area: str = ""
    address_region: str = ""
    address_postcode: str = ""
    address_country: str = "PK"
    address_lat: Decimal | None = None
    address_lng: Decimal | None = None
    shipping_fee: Decimal = Decimal("0")
    cod_amount: Decimal = Decimal("0")
    window_start: datetime | None = None
    window_end: datetime | None = None
    notes: str = ""
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OrderIntake:
    order: Order
    created: bool


def order_input_from(payload: Any, *, channel: str | None = None) -> OrderInput:
    """An order as the API and CSV import validate it (`OrderCreateSchema`), for `order_create`."""
    address, recipient, window = payload.shipping_address, payload.recipient, payload.delivery_window
    return OrderInput(
        channel=channel or payload.channel,
        external_id=payload.external_id,
        recipient_name=recipient.name,
        recipient_phone=recipient.phone,
        recipient_email=recipient.email,
        address_line1=address.line1,
        address_line2=address.line2,
        address_area=address.area,
        address_city=address.city,
        address_region=address.region,
        address_postcode=address.postcode,
        address_country=address.country,
        address_lat=address.lat,
        address_lng=address.lng,
        currency=payload.currency,
        shipping_fee=payload.shipping_fee,
        payment_method=payload.payment.method,
        cod_amount=payload.payment.cod_amount,
        window_start=window.start if window else None,
        window_end=window.end if window else None,
        notes=payload.notes,
        tags=payload.tags,
        lines=[LineInput(sku=line.sku, quantity=line.quantity, unit_price=line.unit_price) for line in payload.lines],
    )


def new_order_number() -> str:
    return (
        "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(4))
        + "-"
        + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(4))
    )


def _validate(data: OrderInput, products: dict[str, ProductForIntake]) -> None:
    """Check every line and field, and raise once with all the problems."""
    errors: list[FieldError] = []
    if data.channel not in Channel.values:
        errors.append(FieldError("channel", f"One of {', '.join(Channel.values)}."))
    if not data.external_id.strip():
        errors.append(FieldError("external_id", "Required: your own id for this order."))
    if not data.lines:
        errors.append(FieldError("lines", "An order needs at least one line."))
    seen: set[str] = set()
    for index, line in enumerate(data.lines):
        product = products.get(line.sku)
        if product is None:
            errors.append(FieldError(f"lines[{index}].sku", f"Unknown SKU {line.sku!r}.", "unknown_sku"))
        elif not product.is_active:
            errors.append(FieldError(f"lines[{index}].sku", f"{line.sku} is not active.", "inactive_sku"))
        if line.sku in seen:
            errors.append(FieldError(f"lines[{index}].sku", "Listed twice; put the quantities on one line."))
        seen.add(line.sku)
        if line.quantity <= 0:
            errors.append(FieldError(f"lines[{index}].quantity", "Must be at least 1."))
        if line.unit_price < 0:
            errors.append(FieldError(f"lines[{index}].unit_price", "Must not be negative."))
    if data.payment_method == PaymentMethod.COD and data.cod_amount <= 0:
        errors.append(FieldError("cod_amount", "Cash-on-delivery orders need the amount to collect."))
    if data.payment_method == PaymentMethod.PREPAID and data.cod_amount:
        errors.append(FieldError("cod_amount", "Prepaid orders collect nothing."))
    if data.window_start and data.window_end and data.window_end <= data.window_start:
        errors.append(FieldError("delivery_window.end", "Must be after the start."))
    if errors:
        raise ValidationFailed("The order is not valid.", errors=errors)


def _take_available(
    warehouse: Warehouse, lines: list[OrderLine], locked: dict[int, Stock] | None = None
) -> tuple[dict[int, Stock], dict[int, int]]:
    """Lock the stock rows the lines need (in product order; `locked`: rows already locked) and
    decide how many units each line takes: as many as are available, up to what it misses."""
    needy = [line for line in lines if line.missing_quantity]
    if not needy:
        return {}, {}
    stocks = dict(locked or {})
    if missing := {line.product_id for line in needy} - stocks.keys():
        stocks |= stock_for_update(warehouse=warehouse, product_ids=missing)
    takes = {}
    for line in needy:
        take = min(line.missing_quantity, stocks[line.product_id].available)
        if take > 0:
            takes[line.product_id] = take
    return stocks, takes


def _reserve(
    order: Order, stocks: dict[int, Stock], takes: dict[int, int], actor: Actor
) -> tuple[list[StockMove], list[Stock]]:
    """Reserve the decided units on the locked rows; returns the ledger rows and the changed stock."""
    reference = Reference("order", str(order.pk))
    moves = [
        stock_move(stocks[product_id], reason=MoveReason.RESERVE, actor=actor, reference=reference, reserved=take)
        for product_id, take in sorted(takes.items())
    ]
    return moves, [stocks[product_id] for product_id in sorted(takes)]


def _allocate(order: Order, lines: list[OrderLine], actor: Actor) -> tuple[list[StockMove], list[Stock]]:
    """Reserve what is available for each line of a stored order."""
    stocks, takes = _take_available(order.warehouse, lines)
    for line in lines:
        line.allocated_quantity += takes.get(line.product_id, 0)
    return _reserve(order, stocks, takes, actor)


def _status_after_allocation(lines: list[OrderLine]) -> str:
    return OrderStatus.ALLOCATED if all(not line.missing_quantity for line in lines) else OrderStatus.BACKORDERED


_ORDER_INSERT = Insert(
    Order,
    (
        "id",
        "organization_id",
        "warehouse_id",
        "status",
        "number",
        "channel",
        "external_id",
        "recipient_name",
        "recipient_phone",
        "recipient_email",
        "address_line1",
        "address_line2",
        "address_area",
        "address_city",
        "address_region",
        "address_postcode",
        "address_country",
        "address_lat",
        "address_lng",
        "currency",
        "subtotal",
        "shipping_fee",
        "total",
        "payment_method",
        "cod_amount",
        "window_start",
        "window_end",
        "notes",
        "tags",
        "created_at",
        "updated_at",
    ),
)
_LINES_INSERT = Insert(
    OrderLine,
    ("organization_id", "order_id", "product_id", "sku", "name", "quantity", "unit_price", "allocated_quantity"),
)
_TIMELINE_INSERT = Insert(
    OrderEvent, ("organization_id", "order_id", "type", "from_status", "to_status", "payload", "actor_label", "at")
)


@transaction.atomic(savepoint=False)
def order_create(
    *, organization: Organization, data: OrderInput, actor: Actor, warehouse: Warehouse | None = None
) -> OrderIntake:
    """Take in an order and reserve its stock at once; never oversells, never duplicates.

    The same (channel, external id) returns the existing order. Stock rows are locked in product
    order, so concurrent orders queue for the same units instead of both taking them. This is the
    platform's hottest path (docs/benchmarks.md): one statement reads what it needs and locks
    the stock, one writes every row (lean SQL, core/sql.py: the rows the ORM would write).
    """
    require(actor, ORDERS_MANAGE)
    if not actor.is_operator and actor.organization != organization:
        raise NotFound("No such organization.")
    number = new_order_number()
    lookup = intake_for_update(
        organization_id=organization.pk,
        channel=data.channel,
        external_id=data.external_id.strip(),
        number=number,
        skus=[line.sku for line in data.lines],
        warehouse_id=warehouse.pk if warehouse is not None else None,
    )
    if lookup.existing_order_id is not None:
        return OrderIntake(Order.objects.get(pk=lookup.existing_order_id), created=False)
    while lookup.number_taken and Order.objects.filter(number=number).exists():  # one in 10^12
        number = new_order_number()
    products = lookup.products
    _validate(data, products)
    warehouse = warehouse or lookup.default_warehouse
    if warehouse is None:
        raise Conflict("AES has no active warehouse yet; an administrator must add one.")
    lines = [
        OrderLine(
            organization_id=organization.pk,
            product_id=products[line.sku].id,
            sku=line.sku,
            name=products[line.sku].name,
            quantity=line.quantity,
            unit_price=line.unit_price,
        )
        for line in data.lines
    ]
    # Decide the allocation first, so the order and its lines are written once, in their final state.
    stocks, takes = _take_available(warehouse, lines, lookup.stocks)
    for line in lines:
        line.allocated_quantity = takes.get(line.product_id, 0)
    subtotal = sum((line.unit_price * line.quantity for line in data.lines), Decimal("0"))
    now = timezone.now()
    order = Order(
        pk=lookup.next_order_id,
        organization=organization,
        warehouse=warehouse,
        status=_status_after_allocation(lines),
        number=number,
        channel=data.channel,
        external_id=data.external_id.strip(),
        recipient_name=data.recipient_name,
        recipient_phone=data.recipient_phone,
        recipient_email=data.recipient_email,
        address_line1=data.address_line1,
        address_line2=data.address_line2,
        address_area=data.address_area,
        address_city=data.address_city,
        address_region=data.address_region,
        address_postcode=data.address_postcode,
        address_country=data.address_country,
        address_lat=data.address_lat,
        address_lng=data.address_lng,
        currency=data.currency,
        subtotal=subtotal,
        shipping_fee=data.shipping_fee,
        total=subtotal + data.shipping_fee,
        payment_method=data.payment_method,
        cod_amount=data.cod_amount,
        window_start=data.window_start,
        window_end=data.window_end,
        notes=data.notes,
        tags=data.tags,
        created_at=now,
        updated_at=now,
    )
    for line in lines:
        line.order = order
    remember_related(order, "lines", lines)
    reserved = [(stocks[product_id], take) for product_id, take in sorted(takes.items())]
    label = actor.label[:200]
    # One statement on PostgreSQL. A concurrent twin (same channel and external id) or a taken
    # order number breaks a unique constraint here: `order_take_in` then runs the intake again.
    sql.run_together(
        [
            _ORDER_INSERT.of([tuple(getattr(order, name) for name in _ORDER_INSERT.names)]),
            _LINES_INSERT.of([tuple(getattr(line, name) for name in _LINES_INSERT.names) for line in lines]),
            *stock_reserve_statements(reserved, reference=Reference("order", str(order.pk)), actor=actor, at=now),
            _TIMELINE_INSERT.of(
                [
                    (
                        organization.pk,
                        order.pk,
                        "received",
                        "",
                        OrderStatus.RECEIVED.value,
                        {"channel": order.channel, "external_id": order.external_id},
                        label,
                        now,
                    ),
                    (organization.pk, order.pk, order.status, OrderStatus.RECEIVED.value, order.status, {}, label, now),
                ]
            ),
            domain_events_insert(
                [
                    order_event_row(order, type="order.created", lines=lines, at=now),
                    *stock_level_event_rows([stock for stock, _ in reserved], cause="order.allocated", at=now),
                ]
            ),
        ]
    )
    order._state.adding = False
    return OrderIntake(order, created=True)


def order_take_in(*, actor: Actor, data: OrderInput, idempotency_key: str = "", fingerprint: str = "") -> OrderIntake:
    """`order_create` in a transaction of its own, as the API takes orders in: a repeated
    `Idempotency-Key` answers with its first order; a request that loses a race to the unique
    constraints (its twin committed first) runs again and finds the twin."""
    for _attempt in range(3):
        try:
            with transaction.atomic(durable=True):
                if idempotency_key:
                    record = IdempotencyRecord.objects.filter(
                        organization=actor.organization, key=idempotency_key
                    ).first()
                    if record is not None:
                        if record.fingerprint != fingerprint:
                            raise Conflict(
                                "This Idempotency-Key was used for a different request.",
                                errors=[FieldError("Idempotency-Key", "Use a new key for a new order.", "key_reused")],
                            )
                        return OrderIntake(Order.objects.get(pk=record.order_id), created=False)
                intake = order_create(organization=actor.organization, data=data, actor=actor)
                if idempotency_key:
                    IdempotencyRecord.objects.create(
                        organization=actor.organization,
                        key=idempotency_key,
                        fingerprint=fingerprint,
                        order=intake.order,
                    )
                return intake
        except IntegrityError:
            continue
    raise Conflict("The order could not be taken in for concurrent changes; send it again.")


def order_allocate_backordered(*, order_id: int, actor: Actor) -> Order:
    """Give a backordered order whatever has become available (one order per transaction, so the
    oldest order is served first and locks stay short)."""
    with transaction.atomic(savepoint=False):
        order = order_for_update(order_id)
        if order.status != OrderStatus.BACKORDERED:
            return order
        lines = list(order.lines.all())
        moves, changed = _allocate(order, lines, actor)
        if not moves:
            return order
        StockMove.objects.bulk_create(moves)
        stock_levels_changed(changed, cause="order.allocated")
        OrderLine.objects.bulk_update(lines, ["allocated_quantity"])
        status = _status_after_allocation(lines)
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
            order_domain_event(order, type="order.allocated", lines=lines)
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
    order_domain_event(order, type=f"order.{target}")


@transaction.atomic(savepoint=False)
def order_cancel(*, order: Order, reason: str, actor: Actor) -> Order:
    """Cancel before handover: reservations are released, picked units go back to the receiving
    dock to be put away, and waiting orders may take the freed units."""
    require(actor, ORDERS_MANAGE)
    order = order_for_update(order.pk)
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
    require(actor, ORDERS_MANAGE)
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
    require(actor, ORDERS_MANAGE)
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
    require(actor, ORDERS_MANAGE)
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
    order.tracking_code = "AES" + "".join(secrets.choice(string.digits) for _ in range(10))
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
    require(actor, ORDERS_MANAGE)
    order = order_for_update(order.pk)
    if order.status == OrderStatus.HANDED_OVER and order.carrier == carrier:
        return order
    order.carrier = carrier
    _transition(order, OrderStatus.HANDED_OVER, actor=actor, carrier=carrier, fields=["carrier"])
    return order


@transaction.atomic(savepoint=False)
def order_record_delivery(*, order: Order, delivered: bool, note: str, actor: Actor) -> Order:
    """The outcome of a delivery attempt: delivered, or failed (to be tried again or returned)."""
    require(actor, ORDERS_MANAGE)
    order = order_for_update(order.pk)
    target = OrderStatus.DELIVERED if delivered else OrderStatus.ATTEMPT_FAILED
    _transition(order, target, actor=actor, note=note)
    return order


@transaction.atomic(savepoint=False)
def order_mark_returned(*, order: Order, actor: Actor) -> Order:
    require(actor, ORDERS_MANAGE)
    order = order_for_update(order.pk)
    _transition(order, OrderStatus.RETURNED, actor=actor)
    return order


@transaction.atomic(savepoint=False)
def orders_import(*, organization: Organization, orders: list[OrderInput], actor: Actor) -> list[OrderIntake]:
    """Take in a file's orders in one transaction: all of them, or (on any refusal) none."""
    return [order_create(organization=organization, data=data, actor=actor) for data in orders]


@transaction.atomic(savepoint=False)
def order_split_backorder(*, order: Order, actor: Actor) -> Order:
    """Ship what is allocated now and move the missing units to a new order that waits for stock.

    The original order keeps its payment: cash on delivery is collected with the first parcel,
    so the remainder carries nothing to collect. Returns the new (backordered) order.
    """
    require(actor, ORDERS_MANAGE)
    order = order_for_update(order.pk)
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
        address_line1=order.address_line1,
        address_line2=order.address_line2,
        address_area=order.address_area,
        address_city=order.address_city,
        address_region=order.address_region,
        address_postcode=order.address_postcode,
        address_country=order.address_country,
        address_lat=order.address_lat,
        address_lng=order.address_lng,
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
    order_domain_event(remainder, type="order.created", lines=list(remainder.lines.all()), split_from=order.number)
    return remainder
