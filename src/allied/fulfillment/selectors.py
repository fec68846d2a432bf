from dataclasses import dataclass

from django.db.models import QuerySet

from allied.accounts.policy import ORDERS_VIEW, Actor, require
from allied.core.errors import NotFound
from allied.fulfillment.models import Manifest, ManifestStatus, PickList, PickListStatus, Return, ReturnStatus
from allied.inventory.models import BinKind, BinStock
from allied.orders.models import Order, OrderStatus


@dataclass(frozen=True)
class PickTask:
    """Units of one product to take from one bin for one order."""

    bin_code: str
    sku: str
    name: str
    barcodes: tuple[str, ...]
    quantity: int
    order_id: int
    order_number: str


def _operator_only(actor: Actor, what: str) -> None:
    require(actor, ORDERS_VIEW)
    if not actor.is_operator:
        raise NotFound(f"No such {what}.")


def pick_tasks(pick_list: PickList) -> list[PickTask]:
    """What is left to pick, in walking order (bin code), bins shared fairly across the batch."""
    orders = list(pick_list.orders.order_by("id").prefetch_related("lines__product"))
    product_ids = {line.product_id for order in orders for line in order.lines.all()}
    remaining: dict[int, list[list]] = {}
    for row in (
        BinStock.objects.filter(product_id__in=product_ids, bin__warehouse=pick_list.warehouse, quantity__gt=0)
        .exclude(bin__kind=BinKind.QUARANTINE)
        .select_related("bin")
        .order_by("bin__code")
    ):
        remaining.setdefault(row.product_id, []).append([row.bin.code, row.quantity])
    tasks = []
    for order in orders:
        if order.status != OrderStatus.PICKING:
            continue
        for line in order.lines.all():
            needed = line.allocated_quantity - line.picked_quantity
            for slot in remaining.get(line.product_id, []):
                if not needed:
                    break
                take = min(needed, slot[1])
                if take:
                    tasks.append(
                        PickTask(
                            slot[0], line.sku, line.name, tuple(line.product.barcodes), take, order.pk, order.number
                        )
                    )
                    slot[1] -= take
                    needed -= take
            if needed:
                tasks.append(
                    PickTask("—", line.sku, line.name, tuple(line.product.barcodes), needed, order.pk, order.number)
                )
    return sorted(tasks, key=lambda task: (task.bin_code, task.order_id))


def pick_lists_open(actor: Actor) -> QuerySet[PickList]:
    _operator_only(actor, "pick list")
    return PickList.objects.filter(status=PickListStatus.OPEN).prefetch_related("orders")


def access_pick_list(actor: Actor, pick_list_id: int) -> PickList:
    _operator_only(actor, "pick list")
    try:
        return PickList.objects.select_related("warehouse").get(pk=pick_list_id)
    except PickList.DoesNotExist:
        raise NotFound("No such pick list.") from None


def orders_ready_to_pick(actor: Actor) -> QuerySet[Order]:
    _operator_only(actor, "order")
    return (
        Order.objects.filter(status=OrderStatus.ALLOCATED).select_related("organization").order_by("created_at", "id")
    )


def orders_ready_to_pack(actor: Actor) -> list[Order]:
    _operator_only(actor, "order")
    picking = Order.objects.filter(status=OrderStatus.PICKING).prefetch_related("lines").select_related("organization")
    return [order for order in picking if all(line.picked_quantity == line.quantity for line in order.lines.all())]


def orders_packed(actor: Actor) -> QuerySet[Order]:
    _operator_only(actor, "order")
    return Order.objects.filter(status=OrderStatus.PACKED, manifest_parcel__isnull=True).select_related("organization")


def manifests_recent(actor: Actor) -> QuerySet[Manifest]:
    _operator_only(actor, "manifest")
    return Manifest.objects.prefetch_related("parcels")[:50]


def access_manifest(actor: Actor, manifest_id: int) -> Manifest:
    _operator_only(actor, "manifest")
    try:
        return Manifest.objects.prefetch_related("parcels__order").get(pk=manifest_id)
    except Manifest.DoesNotExist:
        raise NotFound("No such manifest.") from None


def manifest_is_open(manifest: Manifest) -> bool:
    return manifest.status == ManifestStatus.OPEN


def returns_visible_to(actor: Actor, *, status: str = "") -> QuerySet[Return]:
    require(actor, ORDERS_VIEW)
    returns = Return.objects.visible_to(actor).select_related("order", "organization")
    return returns.filter(status=status) if status else returns


def access_return(actor: Actor, return_id: int) -> Return:
    try:
        return returns_visible_to(actor).prefetch_related("lines__order_line").get(pk=return_id)
    except Return.DoesNotExist:
        raise NotFound("No such return.") from None


def returns_expected(actor: Actor) -> QuerySet[Return]:
    return returns_visible_to(actor, status=ReturnStatus.EXPECTED)
