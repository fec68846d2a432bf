"""Every change to stock. Each goes through the ledger, under row locks, in one transaction."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Required, TypedDict, Unpack

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from allied.accounts.models import Organization
from allied.accounts.policy import INVENTORY_MANAGE, WAREHOUSE_MANAGE, Actor, require
from allied.catalog.models import Product
from allied.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from allied.core.event_types import INBOUND_ANNOUNCED, INBOUND_RECEIVED
from allied.core.events import domain_event_record
from allied.core.sql import AddTo, Insert, Statement
from allied.inventory.errors import InsufficientStock
from allied.inventory.events import stock_levels_changed
from allied.inventory.locks import (
    bin_stock_for_update,
    bin_stock_of_product_for_update,
    cycle_count_for_update,
    inbound_for_update,
    stock_for_update,
)
from allied.inventory.models import (
    ADJUSTMENT_REASONS,
    Bin,
    BinKind,
    BinStock,
    CountStatus,
    CycleCount,
    InboundLine,
    InboundShipment,
    InboundStatus,
    MoveReason,
    Stock,
    StockMove,
    Warehouse,
)


@dataclass(frozen=True)
class Reference:
    """What caused a stock move: an order, an inbound shipment, a count, a return."""

    type: str
    id: str


AvailabilityListener = Callable[[Warehouse, list[int]], None]
_availability_listeners: list[AvailabilityListener] = []


def register_availability_listener(listener: AvailabilityListener) -> None:
    """Apps above inventory (orders) hear when units become available, inside the same transaction."""
    if listener not in _availability_listeners:
        _availability_listeners.append(listener)


def availability_announce(warehouse: Warehouse, product_ids: Iterable[int]) -> None:
    """Tell the listeners that units of these products became available in the warehouse."""
    ids = sorted(set(product_ids))
    if ids:
        for listener in _availability_listeners:
            listener(warehouse, ids)


class StockChange(TypedDict, total=False):
    """What a ledger row records: why, for what, by whom, and the deltas."""

    reason: Required[str]
    actor: Required[Actor]
    reference: Reference | None
    on_hand: int
    reserved: int
    quarantined: int
    bin_stock: BinStock | None
    bin_delta: int
    note: str


def stock_move(stock: Stock, **change: Unpack[StockChange]) -> StockMove:
    """Apply deltas to rows the caller has locked, with F(), and build the ledger row (not saved).

    Callers save the returned moves with `StockMove.objects.bulk_create`, so an order of many
    lines costs one insert for its ledger.
    """
    on_hand, reserved, quarantined = change.get("on_hand", 0), change.get("reserved", 0), change.get("quarantined", 0)
    if on_hand or reserved or quarantined:
        Stock.objects.filter(pk=stock.pk).update(
            on_hand=F("on_hand") + on_hand,
            reserved=F("reserved") + reserved,
            quarantined=F("quarantined") + quarantined,
        )
        stock.on_hand += on_hand
        stock.reserved += reserved
        stock.quarantined += quarantined
    bin_stock, bin_delta = change.get("bin_stock"), change.get("bin_delta", 0)
    if bin_stock is not None and bin_delta:
        BinStock.objects.filter(pk=bin_stock.pk).update(quantity=F("quantity") + bin_delta)
        bin_stock.quantity += bin_delta
    return ledger_row(stock, **change)


def ledger_row(stock: Stock, **change: Unpack[StockChange]) -> StockMove:
    """The ledger row for deltas already applied to `stock` (and `bin_stock`): balances after."""
    bin_stock, reference = change.get("bin_stock"), change.get("reference")
    return StockMove(
        organization_id=stock.organization_id,
        product_id=stock.product_id,
        warehouse_id=stock.warehouse_id,
        bin_id=bin_stock.bin_id if bin_stock is not None else None,
        reason=change["reason"],
        on_hand_delta=change.get("on_hand", 0),
        reserved_delta=change.get("reserved", 0),
        quarantined_delta=change.get("quarantined", 0),
        bin_delta=change.get("bin_delta", 0),
        on_hand_after=stock.on_hand,
        reserved_after=stock.reserved,
        quarantined_after=stock.quarantined,
        bin_quantity_after=bin_stock.quantity if bin_stock is not None else None,
        reference_type=reference.type if reference else "",
        reference_id=reference.id if reference else "",
        note=change.get("note", "")[:300],
        actor_label=change["actor"].label[:200],
    )


_ADD_TO_RESERVED = AddTo(Stock, ("reserved",))
_RESERVATION_LEDGER = Insert(
    StockMove,
    (
        "organization_id",
        "product_id",
        "warehouse_id",
        "reason",
        "reserved_delta",
        "on_hand_after",
        "reserved_after",
        "quarantined_after",
        "reference_type",
        "reference_id",
        "actor_label",
        "at",
    ),
)


def stock_reserve_statements(
    takes: list[tuple[Stock, int]], *, reference: Reference, actor: Actor, at: datetime
) -> list[Statement]:
    """`stock_move(stock, reason=RESERVE, reserved=n)` for many locked rows, as two statements
    (one UPDATE, one ledger INSERT) for the order intake to send with its own writes."""
    if not takes:
        return []
    label = actor.label[:200]
    for stock, quantity in takes:
        stock.reserved += quantity
    return [
        _ADD_TO_RESERVED.of([(stock.pk, (quantity,)) for stock, quantity in takes]),
        _RESERVATION_LEDGER.of(
            [
                (
                    stock.organization_id,
                    stock.product_id,
                    stock.warehouse_id,
                    MoveReason.RESERVE.value,
                    quantity,
                    stock.on_hand,
                    stock.reserved,
                    stock.quarantined,
                    reference.type,
                    reference.id,
                    label,
                    at,
                )
                for stock, quantity in takes
            ]
        ),
    ]


def dock_of(warehouse: Warehouse, kind: str) -> Bin:
    """The warehouse's receiving dock or quarantine area (the first active bin of that kind)."""
    dock = Bin.objects.filter(warehouse=warehouse, kind=kind, is_active=True).order_by("code").first()
    if dock is None:
        raise Conflict(f"{warehouse.code} has no active {BinKind(kind).label.lower()} bin; add one first.")
    return dock


def _check_partner_scope(actor: Actor, organization: Organization) -> None:
    if not actor.is_operator and actor.organization != organization:
        raise NotFound("No such organization.")


@transaction.atomic(savepoint=False)
def inbound_create(
    *,
    organization: Organization,
    warehouse: Warehouse,
    reference: str,
    lines: list[tuple[Product, int]],
    actor: Actor,
    expected_on: date | None = None,
    notes: str = "",
) -> InboundShipment:
    """A partner announces stock on its way (an ASN). Quantities are checked when it is received."""
    require(actor, INVENTORY_MANAGE)
    _check_partner_scope(actor, organization)
    errors = []
    reference = reference.strip()
    if not reference:
        errors.append(FieldError("reference", "Give the shipment a reference."))
    elif InboundShipment.objects.filter(organization=organization, reference=reference).exists():
        errors.append(FieldError("reference", "You already announced a shipment with this reference.", "duplicate"))
    if not lines:
        errors.append(FieldError("lines", "Announce at least one product."))
    seen: set[int] = set()
    for index, (product, quantity) in enumerate(lines):
        if product.organization_id != organization.pk:
            errors.append(FieldError(f"lines[{index}].sku", "Unknown SKU."))
        if quantity <= 0:
            errors.append(FieldError(f"lines[{index}].quantity", "Must be at least 1."))
        if product.pk in seen:
            errors.append(FieldError(f"lines[{index}].sku", "Listed twice; put the quantities on one line."))
        seen.add(product.pk)
    if errors:
        raise ValidationFailed("The inbound shipment is not valid.", errors=errors)
    inbound = InboundShipment.objects.create(
        organization=organization, warehouse=warehouse, reference=reference, expected_on=expected_on, notes=notes
    )
    InboundLine.objects.bulk_create(
        [
            InboundLine(organization=organization, inbound=inbound, product=product, expected_quantity=quantity)
            for product, quantity in lines
        ]
    )
    domain_event_record(
        type=INBOUND_ANNOUNCED,
        organization=organization,
        aggregate=inbound,
        payload={"reference": reference, "lines": [{"sku": p.sku, "quantity": q} for p, q in lines]},
    )
    return inbound


@transaction.atomic(savepoint=False)
def inbound_receive(*, inbound: InboundShipment, received: dict[int, tuple[int, int]], actor: Actor) -> InboundShipment:
    """Receive an ASN: good units go to the receiving dock, damaged ones to quarantine.

    `received` maps line id to (good, damaged). Lines not mentioned arrived with nothing. The
    differences from what was announced are kept on the lines and in the event.
    """
    require(actor, WAREHOUSE_MANAGE)
    inbound = inbound_for_update(inbound.pk)
    if inbound.status != InboundStatus.ANNOUNCED:
        raise Conflict(f"This shipment is already {inbound.get_status_display().lower()}.")
    lines = list(inbound.lines.select_related("product"))
    unknown = set(received) - {line.pk for line in lines}
    errors = [FieldError(f"lines.{line_id}", "Not a line of this shipment.") for line_id in sorted(unknown)]
    for line_id, (good, damaged) in received.items():
        if good < 0 or damaged < 0:
            errors.append(FieldError(f"lines.{line_id}", "Quantities cannot be negative."))
    if errors:
        raise ValidationFailed("The receipt is not valid.", errors=errors)
    warehouse = inbound.warehouse
    dock, quarantine = dock_of(warehouse, BinKind.RECEIVING), None
    if any(damaged for _, damaged in received.values()):
        quarantine = dock_of(warehouse, BinKind.QUARANTINE)
    stocks = stock_for_update(warehouse=warehouse, product_ids=[line.product_id for line in lines])
    reference = Reference("inbound", str(inbound.pk))
    moves = []
    for line in lines:
        good, damaged = received.get(line.pk, (0, 0))
        stock = stocks[line.product_id]
        bins = bin_stock_for_update(product=line.product, bins=[b for b in (dock, quarantine) if b is not None])
        if good:
            moves.append(
                stock_move(
                    stock,
                    reason=MoveReason.RECEIPT,
                    actor=actor,
                    reference=reference,
                    on_hand=good,
                    bin_stock=bins[dock.pk],
                    bin_delta=good,
                )
            )
        if damaged and quarantine is not None:
            moves.append(
                stock_move(
                    stock,
                    reason=MoveReason.RECEIPT,
                    actor=actor,
                    reference=reference,
                    on_hand=damaged,
                    quarantined=damaged,
                    bin_stock=bins[quarantine.pk],
                    bin_delta=damaged,
                    note="damaged on arrival",
                )
            )
        line.received_quantity = good + damaged
        line.damaged_quantity = damaged
    StockMove.objects.bulk_create(moves)
    stock_levels_changed(stocks.values(), cause="inbound.received")
    InboundLine.objects.bulk_update(lines, ["received_quantity", "damaged_quantity"])
    inbound.status = InboundStatus.RECEIVED
    inbound.received_at = timezone.now()
    inbound.received_by_label = actor.label
    inbound.save(update_fields=["status", "received_at", "received_by_label"])
    domain_event_record(
        type=INBOUND_RECEIVED,
        organization=inbound.organization,
        aggregate=inbound,
        payload={
            "reference": inbound.reference,
            "lines": [
                {
                    "sku": line.product.sku,
                    "expected": line.expected_quantity,
                    "received": line.received_quantity,
                    "damaged": line.damaged_quantity,
                    "discrepancy": line.discrepancy,
                }
                for line in lines
            ],
        },
    )
    availability_announce(warehouse, [line.product_id for line in lines if received.get(line.pk, (0, 0))[0]])
    return inbound


@transaction.atomic(savepoint=False)
def stock_put_away(*, product: Product, from_bin: Bin, to_bin: Bin, quantity: int, actor: Actor) -> None:
    """Move units between bins of one warehouse; on hand does not change."""
    require(actor, WAREHOUSE_MANAGE)
    if from_bin.warehouse_id != to_bin.warehouse_id or from_bin.pk == to_bin.pk:
        raise ValidationFailed("Choose another bin in the same warehouse.", errors=[FieldError("to_bin", "Invalid.")])
    if quantity <= 0:
        raise ValidationFailed("Move at least one unit.", errors=[FieldError("quantity", "Must be at least 1.")])
    if BinKind.QUARANTINE in {from_bin.kind, to_bin.kind}:
        raise ValidationFailed("Quarantined units move only through returns or adjustments.")
    stock = stock_for_update(warehouse=from_bin.warehouse, product_ids=[product.pk])[product.pk]
    bins = bin_stock_for_update(product=product, bins=[from_bin, to_bin])
    if bins[from_bin.pk].quantity < quantity:
        raise InsufficientStock(
            f"{from_bin.code} holds {bins[from_bin.pk].quantity} of {product.sku}.",
            errors=[FieldError("quantity", f"At most {bins[from_bin.pk].quantity}.")],
        )
    reference = Reference("putaway", f"{from_bin.pk}-{to_bin.pk}")
    StockMove.objects.bulk_create(
        [
            stock_move(
                stock,
                reason=MoveReason.PUTAWAY,
                actor=actor,
                reference=reference,
                bin_stock=bins[from_bin.pk],
                bin_delta=-quantity,
            ),
            stock_move(
                stock,
                reason=MoveReason.PUTAWAY,
                actor=actor,
                reference=reference,
                bin_stock=bins[to_bin.pk],
                bin_delta=quantity,
            ),
        ]
    )


@transaction.atomic(savepoint=False)
def stock_adjust(*, product: Product, bin: Bin, delta: int, reason: str, note: str, actor: Actor) -> StockMove:
    """Correct the books for units damaged, lost or found. Units promised to orders cannot be adjusted away."""
    require(actor, WAREHOUSE_MANAGE)
    if reason not in ADJUSTMENT_REASONS:
        raise ValidationFailed("Choose a reason.", errors=[FieldError("reason", "Not an adjustment reason.")])
    if delta == 0:
        raise ValidationFailed("Nothing to adjust.", errors=[FieldError("delta", "Must not be zero.")])
    stock = stock_for_update(warehouse=bin.warehouse, product_ids=[product.pk])[product.pk]
    bin_stock = bin_stock_for_update(product=product, bins=[bin])[bin.pk]
    quarantined = delta if bin.kind == BinKind.QUARANTINE else 0
    if bin_stock.quantity + delta < 0:
        raise InsufficientStock(
            f"{bin.code} holds only {bin_stock.quantity}.", errors=[FieldError("delta", "Too many.")]
        )
    if delta < 0 and stock.available + delta - quarantined < 0:
        raise InsufficientStock(
            f"Only {stock.available} of {product.sku} are free; the rest are promised to orders.",
            errors=[FieldError("delta", f"At most {stock.available} can be removed.")],
        )
    move = stock_move(
        stock,
        reason=reason,
        actor=actor,
        reference=Reference("adjustment", ""),
        on_hand=delta,
        quarantined=quarantined,
        bin_stock=bin_stock,
        bin_delta=delta,
        note=note,
    )
    move.save()
    stock_levels_changed([stock], cause=reason)
    if delta > 0 and not quarantined:
        availability_announce(bin.warehouse, [product.pk])
    return move


@transaction.atomic(savepoint=False)
def cycle_count_record(*, product: Product, bin: Bin, counted: int, actor: Actor) -> CycleCount:
    """First count of a product in a bin. A match closes it; a mismatch asks for a recount."""
    require(actor, WAREHOUSE_MANAGE)
    if counted < 0:
        raise ValidationFailed("Counts are not negative.", errors=[FieldError("counted", "Must be 0 or more.")])
    stock_for_update(warehouse=bin.warehouse, product_ids=[product.pk])
    expected = bin_stock_for_update(product=product, bins=[bin])[bin.pk].quantity
    status = CountStatus.DONE if counted == expected else CountStatus.RECOUNT
    return CycleCount.objects.create(
        organization_id=product.organization_id,
        product=product,
        bin=bin,
        expected_quantity=expected,
        first_count=counted,
        status=status,
        counted_by_label=actor.label,
        finished_at=timezone.now() if status == CountStatus.DONE else None,
    )


@transaction.atomic(savepoint=False)
def cycle_count_recount(*, count: CycleCount, counted: int, actor: Actor) -> CycleCount:
    """The second count decides: the books are set to it through a ledger entry."""
    require(actor, WAREHOUSE_MANAGE)
    count = cycle_count_for_update(count.pk)
    if count.status != CountStatus.RECOUNT:
        raise Conflict("This count is closed.")
    if counted < 0:
        raise ValidationFailed("Counts are not negative.", errors=[FieldError("counted", "Must be 0 or more.")])
    product, bin = count.product, count.bin
    stock = stock_for_update(warehouse=bin.warehouse, product_ids=[product.pk])[product.pk]
    bin_stock = bin_stock_for_update(product=product, bins=[bin])[bin.pk]
    delta = counted - bin_stock.quantity
    quarantined = delta if bin.kind == BinKind.QUARANTINE else 0
    if delta < 0 and stock.available + delta - quarantined < 0:
        raise InsufficientStock(
            f"The count removes {-delta} units but only {stock.available} are free; release orders first."
        )
    if delta:
        stock_move(
            stock,
            reason=MoveReason.COUNT,
            actor=actor,
            reference=Reference("count", str(count.pk)),
            on_hand=delta,
            quarantined=quarantined,
            bin_stock=bin_stock,
            bin_delta=delta,
        ).save()
        stock_levels_changed([stock], cause="count")
    count.second_count = counted
    count.adjustment = delta
    count.status = CountStatus.DONE
    count.finished_at = timezone.now()
    count.save(update_fields=["second_count", "adjustment", "status", "finished_at"])
    if delta > 0 and not quarantined:
        availability_announce(bin.warehouse, [product.pk])
    return count


def stock_take_from_bins(
    stock: Stock, *, product: Product, quantity: int, reference: Reference, actor: Actor, bin: Bin | None = None
) -> list[StockMove]:
    """Pick reserved units out of bins (the given one, or in walking order): on hand and reserved fall.

    The caller holds the stock row lock (taken first, as everywhere).
    """
    rows = bin_stock_of_product_for_update(product=product, warehouse=stock.warehouse)
    rows = [row for row in rows if row.bin.kind != BinKind.QUARANTINE and (bin is None or row.bin_id == bin.pk)]
    if sum(row.quantity for row in rows) < quantity:
        where = bin.code if bin is not None else "the bins"
        raise InsufficientStock(f"{where} hold fewer than {quantity} of {product.sku}.")
    moves, left = [], quantity
    for row in rows:
        take = min(left, row.quantity)
        if take:
            moves.append(
                stock_move(
                    stock,
                    reason=MoveReason.PICK,
                    actor=actor,
                    reference=reference,
                    on_hand=-take,
                    reserved=-take,
                    bin_stock=row,
                    bin_delta=-take,
                )
            )
            left -= take
        if not left:
            break
    return moves


def stock_put_back(
    stock: Stock, *, product: Product, bin: Bin, quantity: int, reason: str, reference: Reference, actor: Actor
) -> StockMove:
    """Units come back into a bin (a cancelled pick, a restocked return); on hand rises, nothing is reserved."""
    bin_stock = bin_stock_for_update(product=product, bins=[bin])[bin.pk]
    quarantined = quantity if bin.kind == BinKind.QUARANTINE else 0
    return stock_move(
        stock,
        reason=reason,
        actor=actor,
        reference=reference,
        on_hand=quantity,
        quarantined=quarantined,
        bin_stock=bin_stock,
        bin_delta=quantity,
    )
