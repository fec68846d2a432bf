from collections.abc import Sequence
from typing import Any

from django.db.models import F, Q, QuerySet, Sum

from allied.accounts.policy import INVENTORY_VIEW, Actor, require
from allied.catalog.models import Product
from allied.core import sql
from allied.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from allied.inventory.models import Bin, BinStock, CycleCount, InboundShipment, Stock, StockMove, Warehouse

# AES's main warehouse, where orders and inbound shipments go unless told otherwise: the first
# active one by code. SQL, because the order intake reads it inside its one lean statement.
MAIN_WAREHOUSE_SQL = "SELECT id, code FROM inventory_warehouse WHERE is_active ORDER BY code LIMIT 1"


def default_warehouse() -> Warehouse:
    """AES's main warehouse (`MAIN_WAREHOUSE_SQL`)."""
    rows = sql.fetch(MAIN_WAREHOUSE_SQL, [])
    if not rows:
        raise Conflict("AES has no active warehouse yet; an administrator must add one.")
    return sql.instance(Warehouse, ("id", "code"), rows[0])


def warehouse_for_inbound(code: str) -> Warehouse:
    """The warehouse a partner ships to: the active one with this code, or the main one."""
    if not code.strip():
        return default_warehouse()
    found = Warehouse.objects.filter(code=code.strip().upper(), is_active=True).first()
    if found is None:
        raise ValidationFailed(
            "Unknown warehouse.", errors=[FieldError("warehouse", f"No active warehouse has the code {code!r}.")]
        )
    return found


def products_for_lines(organization: Any, lines: Sequence[tuple[str, int]]) -> list[tuple[Product, int]]:
    """(SKU, quantity) lines as the organization's products, every unknown SKU named at once as
    `lines[i].sku` (the API's name; pages number the lines for people)."""
    skus = [sku.strip() for sku, _ in lines]
    products = {product.sku: product for product in Product.objects.filter(organization=organization, sku__in=skus)}
    unknown = [
        FieldError(f"lines[{index}].sku", f"Unknown SKU {sku!r}.", "unknown_sku")
        for index, sku in enumerate(skus)
        if sku not in products
    ]
    if unknown:
        raise ValidationFailed("Some SKUs are unknown.", errors=unknown)
    return [(products[sku], quantity) for sku, (_, quantity) in zip(skus, lines, strict=True)]


def stock_levels_visible_to(actor: Actor, *, sku: str = "", warehouse_code: str = "") -> QuerySet[Stock]:
    require(actor, INVENTORY_VIEW)
    levels = Stock.objects.visible_to(actor).select_related("product", "warehouse", "organization")
    if sku:
        levels = levels.filter(product__sku=sku)
    if warehouse_code:
        levels = levels.filter(warehouse__code=warehouse_code)
    return levels.annotate(available_units=F("on_hand") - F("reserved") - F("quarantined")).order_by("product__sku")


def bin_stock_of_bin(actor: Actor, bin: Bin) -> QuerySet[BinStock]:
    require(actor, INVENTORY_VIEW)
    return BinStock.objects.visible_to(actor).filter(bin=bin, quantity__gt=0).select_related("product")


def access_bin(actor: Actor, warehouse: Warehouse, code: str) -> Bin:
    if not actor.is_operator:
        raise NotFound("No such bin.")
    try:
        return Bin.objects.select_related("warehouse").get(warehouse=warehouse, code=code.strip().upper())
    except Bin.DoesNotExist:
        raise NotFound(f"No bin {code} in {warehouse.code}.") from None


def ledger_visible_to(actor: Actor, *, product_id: int | None = None) -> QuerySet[StockMove]:
    require(actor, INVENTORY_VIEW)
    moves = StockMove.objects.visible_to(actor).select_related("product", "warehouse", "bin")
    if product_id is not None:
        moves = moves.filter(product_id=product_id)
    return moves.order_by("-id")


def inbound_shipments_visible_to(actor: Actor) -> QuerySet[InboundShipment]:
    require(actor, INVENTORY_VIEW)
    return InboundShipment.objects.visible_to(actor).select_related("organization", "warehouse")


def access_inbound(actor: Actor, inbound_id: int) -> InboundShipment:
    require(actor, INVENTORY_VIEW)
    try:
        return inbound_shipments_visible_to(actor).prefetch_related("lines__product").get(pk=inbound_id)
    except InboundShipment.DoesNotExist:
        raise NotFound("No such inbound shipment.") from None


def counts_needing_recount(actor: Actor) -> QuerySet[CycleCount]:
    require(actor, INVENTORY_VIEW)
    return CycleCount.objects.visible_to(actor).filter(status="recount").select_related("product", "bin")


def access_cycle_count(actor: Actor, count_id: int) -> CycleCount:
    require(actor, INVENTORY_VIEW)
    try:
        return CycleCount.objects.visible_to(actor).select_related("product", "bin").get(pk=count_id)
    except CycleCount.DoesNotExist:
        raise NotFound("No such count.") from None


def inventory_verify() -> list[str]:
    """Prove the books agree: ledger sums equal balances, and bins add up to on hand."""
    problems = []
    ledger = {
        (row["product_id"], row["warehouse_id"]): row
        for row in StockMove.objects.values("product_id", "warehouse_id").annotate(
            on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta"), quarantined=Sum("quarantined_delta")
        )
    }
    bins = {
        (row["product_id"], row["bin__warehouse_id"]): row["total"]
        for row in BinStock.objects.values("product_id", "bin__warehouse_id").annotate(total=Sum("quantity"))
    }
    for stock in Stock.objects.select_related("product", "warehouse"):
        key = (stock.product_id, stock.warehouse_id)
        books = ledger.pop(key, {"on_hand": 0, "reserved": 0, "quarantined": 0})
        label = f"{stock.product.sku} @ {stock.warehouse.code}"
        for name in ("on_hand", "reserved", "quarantined"):
            if getattr(stock, name) != books[name]:
                problems.append(f"{label}: {name} is {getattr(stock, name)} but the ledger sums to {books[name]}")
        if stock.on_hand != bins.get(key, 0):
            problems.append(f"{label}: on hand is {stock.on_hand} but its bins hold {bins.get(key, 0)}")
        if (
            stock.on_hand < stock.reserved + stock.quarantined
            or min(stock.on_hand, stock.reserved, stock.quarantined) < 0
        ):
            problems.append(f"{label}: impossible balance {stock.on_hand}/{stock.reserved}/{stock.quarantined}")
    problems.extend(f"ledger rows for product {p} in warehouse {w} have no stock row" for (p, w) in ledger)
    moved_into_bins = {
        (row["product_id"], row["bin_id"]): row["total"]
        for row in StockMove.objects.filter(bin__isnull=False)
        .values("product_id", "bin_id")
        .annotate(total=Sum("bin_delta"))
    }
    for row in BinStock.objects.values("product_id", "bin_id", "quantity"):
        moved = moved_into_bins.get((row["product_id"], row["bin_id"]), 0)
        if moved != row["quantity"]:
            problems.append(
                f"bin {row['bin_id']} holds {row['quantity']} of product {row['product_id']}; ledger: {moved}"
            )
    return problems


def product_in_bin_by_code(actor: Actor, bin: Bin, code: str) -> Product:
    """The product a scan names among the units in a bin (SKUs repeat across partners; bins resolve it)."""
    code = code.strip()
    rows = [row for row in bin_stock_of_bin(actor, bin) if row.product.sku == code or code in row.product.barcodes]
    if not rows:
        raise ValidationFailed(f"{code} is not in {bin.code}.", errors=[FieldError("code", f"Not in {bin.code}.")])
    if len(rows) > 1:
        raise ValidationFailed(
            f"Several partners' products match {code} in {bin.code}; scan the product's barcode.",
            errors=[FieldError("code", "Ambiguous; scan the barcode.")],
        )
    return rows[0].product


def product_in_bin_or_catalog(actor: Actor, bin: Bin, code: str) -> Product:
    """For counts and adjustments: what is in the bin, or else a unique SKU/barcode (units found
    where the books have none)."""
    try:
        return product_in_bin_by_code(actor, bin, code)
    except ValidationFailed:
        code = code.strip()
        candidates = Product.objects.filter(Q(sku=code) | Q(barcodes__icontains=code))[:20]
        matches = [p for p in candidates if p.sku == code or code in p.barcodes]
        if len(matches) != 1:
            raise ValidationFailed(
                f"{code} names no single product; scan the product's barcode.",
                errors=[FieldError("code", "Unknown or ambiguous.")],
            ) from None
        return matches[0]


def available_by_sku(product_ids: Sequence[int]) -> dict[str, int]:
    """What can be sold of each product, summed over every warehouse (0 for one never stocked),
    keyed by SKU: what a store is told it has."""
    available = {
        row["product_id"]: row["sellable"]
        for row in Stock.objects.filter(product_id__in=product_ids)
        .values("product_id")
        .annotate(sellable=Sum(F("on_hand") - F("reserved") - F("quarantined")))
    }
    return {
        sku: max(0, available.get(pk, 0) or 0)
        for pk, sku in Product.objects.filter(pk__in=product_ids).values_list("pk", "sku")
    }
