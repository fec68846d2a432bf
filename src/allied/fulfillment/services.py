"""Warehouse work on orders: pick lists, handover manifests and returns. Locks are taken
pick list / manifest / return first, then orders, then stock."""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from allied.accounts.policy import ORDERS_FULFIL, ORDERS_MANAGE, Actor, require
from allied.core.carriers import carrier_get
from allied.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from allied.fulfillment.locks import manifest_for_update, pick_list_for_update, return_for_update
from allied.fulfillment.models import (
    Manifest,
    ManifestParcel,
    ManifestStatus,
    PickList,
    PickListStatus,
    Return,
    ReturnCondition,
    ReturnLine,
    ReturnSource,
    ReturnStatus,
)
from allied.fulfillment.selectors import PickTask, pick_tasks
from allied.inventory.events import stock_levels_changed
from allied.inventory.locks import stock_for_update
from allied.inventory.models import BinKind, MoveReason, StockMove, Warehouse
from allied.inventory.services import Reference, availability_announce, dock_of, stock_move, stock_put_back
from allied.orders.locks import order_for_update
from allied.orders.models import Order, OrderStatus
from allied.orders.services.lifecycle import order_hand_over, order_mark_returned, order_pick, order_start_picking
from allied.orders.tracking import tracking_code_normalize

DEFAULT_BATCH_SIZE = 10


def _operator(actor: Actor) -> None:
    require(actor, ORDERS_FULFIL)


@transaction.atomic(savepoint=False)
def pick_list_create(
    *, warehouse: Warehouse, actor: Actor, orders: Iterable[Order] = (), batch_size: int = DEFAULT_BATCH_SIZE
) -> PickList:
    """Start picking: the given orders, or the oldest allocated ones (a batch walks once for all); each
    order moves to picking in id order, and with no order waiting nothing is created."""
    _operator(actor)
    chosen = list(orders) or list(
        Order.objects.filter(warehouse=warehouse, status=OrderStatus.ALLOCATED).order_by("created_at", "id")[
            :batch_size
        ]
    )
    if not chosen:
        raise Conflict("No allocated orders are waiting to be picked.")
    pick_list = PickList.objects.create(warehouse=warehouse, created_by_label=actor.label)
    for order in sorted(chosen, key=lambda o: o.pk):
        order_start_picking(order=order, actor=actor)
    pick_list.orders.set(chosen)
    return pick_list


@transaction.atomic(savepoint=False)
def pick_list_scan(*, pick_list: PickList, code: str, actor: Actor, bin_code: str = "", quantity: int = 1) -> PickTask:
    """One scan at a shelf: the unit must be on this list (and in this bin, when one is given)."""
    _operator(actor)
    pick_list = pick_list_for_update(pick_list.pk)
    if pick_list.status != PickListStatus.OPEN:
        raise Conflict("This pick list is done.")
    code, bin_code = code.strip(), bin_code.strip().upper()
    task = next(
        (
            t
            for t in pick_tasks(pick_list)
            if (code == t.sku or code in t.barcodes) and (not bin_code or bin_code == t.bin_code) and t.bin_code != "—"
        ),
        None,
    )
    if task is None:
        raise ValidationFailed(
            f"{code} is not on this pick list{' in ' + bin_code if bin_code else ''}, or is already picked.",
            errors=[FieldError("code", "Not expected here.")],
        )
    taken = min(max(quantity, 1), task.quantity)
    order_pick(order=Order(pk=task.order_id), code=task.sku, quantity=taken, bin_code=task.bin_code, actor=actor)
    if not pick_tasks(pick_list):
        pick_list.status = PickListStatus.DONE
        pick_list.finished_at = timezone.now()
        pick_list.save(update_fields=["status", "finished_at"])
    return PickTask(task.bin_code, task.sku, task.name, task.barcodes, taken, task.order_id, task.order_number)


@transaction.atomic(savepoint=False)
def manifest_open(*, warehouse: Warehouse, carrier: str, actor: Actor) -> Manifest:
    """Start a carrier's hand-over sheet in a warehouse, the carrier named by its registry code
    (AES staff only)."""
    _operator(actor)
    carrier_get(carrier)
    return Manifest.objects.create(warehouse=warehouse, carrier=carrier, created_by_label=actor.label)


@transaction.atomic(savepoint=False)
def manifest_scan(*, manifest: Manifest, code: str, actor: Actor) -> Order:
    """Scan a parcel out onto the manifest: it must be packed and on no other manifest."""
    _operator(actor)
    manifest = manifest_for_update(manifest.pk)
    if manifest.status != ManifestStatus.OPEN:
        raise Conflict("This manifest is closed.")
    code = code.strip().upper()
    tracking_code = tracking_code_normalize(code)
    parcels = Order.objects.filter(warehouse=manifest.warehouse)
    order = (parcels.filter(tracking_code=tracking_code) if tracking_code else parcels.filter(number=code)).first()
    if order is None:
        raise ValidationFailed(f"No parcel {code} in this warehouse.", errors=[FieldError("code", "Unknown parcel.")])
    order = order_for_update(order.pk)
    existing = ManifestParcel.objects.filter(order=order).select_related("manifest").first()
    if existing is not None:
        if existing.manifest_id == manifest.pk:
            return order
        raise Conflict(f"{code} is already on manifest {existing.manifest_id}.")
    if order.status != OrderStatus.PACKED:
        raise Conflict(f"{code} is {order.get_status_display().lower()}, not packed.")
    ManifestParcel.objects.create(manifest=manifest, order=order)
    return order


@transaction.atomic(savepoint=False)
def manifest_close(*, manifest: Manifest, actor: Actor) -> Manifest:
    """The carrier signs for every scanned parcel: each order becomes handed over."""
    _operator(actor)
    manifest = manifest_for_update(manifest.pk)
    if manifest.status == ManifestStatus.CLOSED:
        return manifest
    parcels = list(manifest.parcels.order_by("order_id"))
    if not parcels:
        raise Conflict("Scan at least one parcel before handing over.")
    for parcel in parcels:
        order_hand_over(order=Order(pk=parcel.order_id), carrier=manifest.carrier, actor=actor)
    manifest.status = ManifestStatus.CLOSED
    manifest.closed_at = timezone.now()
    manifest.save(update_fields=["status", "closed_at"])
    return manifest


def _returnable(order: Order) -> dict[int, int]:
    already = dict(
        ReturnLine.objects.filter(parcel_return__order=order)
        .values_list("order_line_id")
        .annotate(total=Sum("quantity"))
    )
    return {line.pk: line.packed_quantity - already.get(line.pk, 0) for line in order.lines.all()}


@transaction.atomic(savepoint=False)
def return_request(*, order: Order, lines: list[tuple[str, int]], reason: str, actor: Actor) -> Return:
    """A partner announces a customer return of a delivered order, under the order's lock: only SKUs of
    the order, never more units than were packed and not yet returned; every bad line reported at once."""
    require(actor, ORDERS_MANAGE)
    order = order_for_update(order.pk)
    if not actor.is_operator and actor.organization != order.organization:
        raise NotFound("No such order.")
    if order.status != OrderStatus.DELIVERED:
        raise Conflict(f"Only delivered orders can be returned; this one is {order.get_status_display().lower()}.")
    returnable = _returnable(order)
    by_sku = {line.sku: line for line in order.lines.all()}
    errors = []
    for index, (sku, quantity) in enumerate(lines):
        line = by_sku.get(sku)
        if line is None:
            errors.append(FieldError(f"lines[{index}].sku", f"{sku} is not in this order."))
        elif not 0 < quantity <= returnable[line.pk]:
            errors.append(FieldError(f"lines[{index}].quantity", f"Between 1 and {returnable[line.pk]}."))
    if not lines:
        errors.append(FieldError("lines", "Return at least one unit."))
    if errors:
        raise ValidationFailed("The return is not valid.", errors=errors)
    parcel_return = Return.objects.create(
        organization=order.organization, order=order, source=ReturnSource.PARTNER_REQUEST, reason=reason.strip()
    )
    ReturnLine.objects.bulk_create(
        [
            ReturnLine(organization=order.organization, parcel_return=parcel_return, order_line=by_sku[sku], quantity=q)
            for sku, q in lines
        ]
    )
    return parcel_return


@transaction.atomic(savepoint=False)
def return_from_failed_delivery(*, order: Order, actor: Actor) -> Return:
    """A parcel that could not be delivered comes back whole (every packed unit), once: asking again
    answers the same return."""
    _operator(actor)
    order = order_for_update(order.pk)
    if order.status != OrderStatus.ATTEMPT_FAILED:
        raise Conflict("Only parcels whose delivery failed come back this way.")
    existing = order.returns.filter(source=ReturnSource.FAILED_DELIVERY).first()
    if existing is not None:
        return existing
    parcel_return = Return.objects.create(
        organization=order.organization, order=order, source=ReturnSource.FAILED_DELIVERY, reason="Delivery failed"
    )
    ReturnLine.objects.bulk_create(
        [
            ReturnLine(
                organization=order.organization,
                parcel_return=parcel_return,
                order_line=line,
                quantity=line.packed_quantity,
            )
            for line in order.lines.all()
            if line.packed_quantity
        ]
    )
    return parcel_return


@transaction.atomic(savepoint=False)
def return_receive(*, parcel_return: Return, conditions: dict[int, str], actor: Actor) -> Return:
    """Receive returned units by condition: restocked units go to the dock and become available
    again, quarantined units to quarantine, disposed units are written off; all through the ledger."""
    _operator(actor)
    parcel_return = return_for_update(parcel_return.pk)
    if parcel_return.status != ReturnStatus.EXPECTED:
        raise Conflict("This return has been received.")
    lines = list(parcel_return.lines.select_related("order_line__product"))
    missing = [
        FieldError(f"lines.{line.pk}", "Choose a condition.")
        for line in lines
        if conditions.get(line.pk) not in ReturnCondition.values
    ]
    if missing:
        raise ValidationFailed("Every returned line needs a condition.", errors=missing)
    order = order_for_update(parcel_return.order_id)
    warehouse = order.warehouse
    stocks = stock_for_update(warehouse=warehouse, product_ids=[line.order_line.product_id for line in lines])
    reference = Reference("return", str(parcel_return.pk))
    moves = []
    restocked = []
    for line in lines:
        line.condition = conditions[line.pk]
        product = line.order_line.product
        stock = stocks[product.pk]
        if line.condition == ReturnCondition.RESTOCK:
            moves.append(
                stock_put_back(
                    stock,
                    product=product,
                    bin=dock_of(warehouse, BinKind.RECEIVING),
                    quantity=line.quantity,
                    reason=MoveReason.RETURN_RESTOCK,
                    reference=reference,
                    actor=actor,
                )
            )
            restocked.append(product.pk)
        elif line.condition == ReturnCondition.QUARANTINE:
            moves.append(
                stock_put_back(
                    stock,
                    product=product,
                    bin=dock_of(warehouse, BinKind.QUARANTINE),
                    quantity=line.quantity,
                    reason=MoveReason.RETURN_QUARANTINE,
                    reference=reference,
                    actor=actor,
                )
            )
        else:
            moves.append(
                stock_move(
                    stock,
                    reason=MoveReason.RETURN_DISPOSE,
                    actor=actor,
                    reference=reference,
                    note=f"{line.quantity} unit(s) disposed",
                )
            )
    StockMove.objects.bulk_create(moves)
    stock_levels_changed(stocks.values(), cause="return.received")
    ReturnLine.objects.bulk_update(lines, ["condition"])
    parcel_return.status = ReturnStatus.RECEIVED
    parcel_return.received_at = timezone.now()
    parcel_return.received_by_label = actor.label
    parcel_return.save(update_fields=["status", "received_at", "received_by_label"])
    if order.status != OrderStatus.RETURNED:
        order_mark_returned(order=order, actor=actor)
    availability_announce(warehouse, restocked)
    return parcel_return
