"""Taking orders in, from every channel: validated once, stock reserved under row locks, never
duplicated (by channel + external id and by Idempotency-Key)."""

import secrets
import string
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from allied.accounts.models import Organization
from allied.accounts.policy import ORDERS_MANAGE, Actor, require
from allied.core import sql
from allied.core.address import ADDRESS_COLUMNS, Address
from allied.core.contact import contact_errors
from allied.core.db import unique_columns, unique_violation
from allied.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from allied.core.event_types import ORDER_CREATED
from allied.core.events import domain_events_insert
from allied.core.models import remember_related
from allied.core.sql import Insert
from allied.inventory.events import stock_level_event_rows
from allied.inventory.models import Warehouse
from allied.inventory.services import (
    Reference,
    stock_reserve_statements,
)
from allied.orders.allocation import status_after_allocation, take_available
from allied.orders.events import order_event_row
from allied.orders.locks import ProductForIntake, intake_for_update
from allied.orders.models import Channel, IdempotencyRecord, Order, OrderEvent, OrderLine, OrderStatus, PaymentMethod

NUMBER_ALPHABET = string.ascii_uppercase.replace("O", "").replace("I", "") + "23456789"


# The channels an order may name when a partner sends it itself (API, pages, CSV); the stores'
# channels belong to their connectors, which act as Allied.
CLIENT_CHANNELS = (Channel.API, Channel.MANUAL, Channel.MARKETPLACE, Channel.CSV)


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int
    unit_price: Decimal
    currency: str = ""  # given by some stores per line; must then be the order's


@dataclass(frozen=True)
class OrderInput:
    channel: str
    external_id: str
    recipient_name: str
    recipient_phone: str
    address: Address
    currency: str
    payment_method: str
    lines: list[LineInput]
    recipient_email: str = ""
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
        address=Address.given(**address.model_dump()),
        currency=payload.currency,
        shipping_fee=payload.shipping_fee,
        payment_method=payload.payment.method,
        cod_amount=payload.payment.cod_amount,
        window_start=window.start if window else None,
        window_end=window.end if window else None,
        notes=payload.notes,
        tags=payload.tags,
        lines=[
            LineInput(sku=line.sku, quantity=line.quantity, unit_price=line.unit_price, currency=line.currency or "")
            for line in payload.lines
        ],
    )


def new_order_number() -> str:
    """Eight characters people can read out (no O/0, I/1), about 10^12 of them; `order_create`
    draws again when one is taken."""
    return (
        "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(4))
        + "-"
        + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(4))
    )


def _validate(
    data: OrderInput, products: dict[str, ProductForIntake], actor: Actor, *, default_country: str
) -> OrderInput:
    """Check every line and field, and raise once with all the problems; the order with its
    contact details in normal form (core/contact.py)."""
    phone, email, errors = contact_errors(
        phone=data.recipient_phone, email=data.recipient_email, default_country=default_country, prefix="recipient"
    )
    channels = Channel.values if actor.is_system else CLIENT_CHANNELS
    if data.channel not in channels:
        errors.append(FieldError("channel", f"One of {', '.join(channels)}."))
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
        if line.currency and line.currency != data.currency:
            errors.append(
                FieldError(f"lines[{index}].currency", f"Must be the order's currency, {data.currency}.", "currency")
            )
    if data.payment_method == PaymentMethod.COD and data.cod_amount <= 0:
        errors.append(FieldError("payment.cod_amount", "Cash-on-delivery orders need the amount to collect."))
    if data.payment_method == PaymentMethod.PREPAID and data.cod_amount:
        errors.append(FieldError("payment.cod_amount", "Prepaid orders collect nothing."))
    if data.window_start and data.window_end and data.window_end <= data.window_start:
        errors.append(FieldError("delivery_window.end", "Must be after the start."))
    if errors:
        raise ValidationFailed("The order is not valid.", errors=errors)
    return replace(data, recipient_phone=phone, recipient_email=email)


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
        *ADDRESS_COLUMNS,
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
    data = _validate(data, products, actor, default_country=organization.default_country)
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
    stocks, takes = take_available(warehouse, lines, lookup.stocks)
    for line in lines:
        line.allocated_quantity = takes.get(line.product_id, 0)
    subtotal = sum((line.unit_price * line.quantity for line in data.lines), Decimal("0"))
    now = timezone.now()
    order = Order(
        pk=lookup.next_order_id,
        organization=organization,
        warehouse=warehouse,
        status=status_after_allocation(lines),
        number=number,
        channel=data.channel,
        external_id=data.external_id.strip(),
        recipient_name=data.recipient_name,
        recipient_phone=data.recipient_phone,
        recipient_email=data.recipient_email,
        **data.address.columns(),
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
            *domain_events_insert(
                [
                    order_event_row(order, type=ORDER_CREATED, lines=lines, at=now),
                    *stock_level_event_rows([stock for stock, _ in reserved], cause="order.allocated", at=now),
                ]
            ),
        ]
    )
    order._state.adding = False
    return OrderIntake(order, created=True)


@transaction.atomic(savepoint=False)
def order_receive(
    *, organization: Organization, data: OrderInput, actor: Actor, idempotency_key: str = "", fingerprint: str = ""
) -> OrderIntake:
    """Take in an order within the caller's transaction, so a store connector can write its inbox
    row and the order atomically. A repeated `Idempotency-Key` answers with its first order (or a
    conflict when it came with another request); the same (channel, external id) answers with the
    existing order. A concurrent twin may still win the race to the unique constraints: then the
    caller's transaction is broken and must run again (`order_take_in` does that)."""
    if idempotency_key:
        record = IdempotencyRecord.objects.filter(organization=organization, key=idempotency_key).first()
        if record is not None:
            if record.fingerprint != fingerprint:
                raise Conflict(
                    "This Idempotency-Key was used for a different request.",
                    errors=[FieldError("Idempotency-Key", "Use a new key for a new order.", "key_reused")],
                )
            return OrderIntake(Order.objects.get(pk=record.order_id), created=False)
    intake = order_create(organization=organization, data=data, actor=actor)
    if idempotency_key:
        IdempotencyRecord.objects.create(
            organization=organization, key=idempotency_key, fingerprint=fingerprint, order=intake.order
        )
    return intake


def _intake_races() -> frozenset[tuple[str, frozenset[str]]]:
    """The unique constraints a concurrent twin of an order can break first: the same (channel,
    external id), the same Idempotency-Key, or the same freshly drawn order number."""
    return frozenset(
        {
            unique_columns(Order, "order_unique_per_channel"),
            unique_columns(Order, "number"),
            unique_columns(IdempotencyRecord, "idempotency_key_unique_per_org"),
        }
    )


def order_take_in(
    *, actor: Actor, data: OrderInput, idempotency_key: str = "", fingerprint: str = "", organization: Any = None
) -> OrderIntake:
    """The entry point of one order (an API call, a store webhook's task): `order_receive` in a
    transaction of its own, run again when a twin won the race to one of the intake's unique
    constraints, so the second run finds the twin. Any other integrity error is a defect and
    propagates."""
    for _attempt in range(3):
        try:
            with transaction.atomic(durable=True):
                return order_receive(
                    organization=organization or actor.organization,
                    data=data,
                    actor=actor,
                    idempotency_key=idempotency_key,
                    fingerprint=fingerprint,
                )
        except IntegrityError as error:
            if unique_violation(error) not in _intake_races():
                raise
    raise Conflict("The order could not be taken in for concurrent changes; send it again.")


@transaction.atomic(savepoint=False)
def orders_import(*, organization: Organization, orders: list[OrderInput], actor: Actor) -> list[OrderIntake]:
    """Take in a file's orders in one transaction: all of them, or (on any refusal) none."""
    return [order_create(organization=organization, data=data, actor=actor) for data in orders]
