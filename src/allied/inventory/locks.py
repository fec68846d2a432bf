"""The only place inventory rows are locked. Always in (warehouse, product) order, so two
transactions that need the same rows wait for each other instead of deadlocking."""

from collections.abc import Iterable

from allied.catalog.models import Product
from allied.core import sql
from allied.inventory.models import Bin, BinStock, CycleCount, InboundShipment, Stock, Warehouse

STOCK_COLUMNS = ("id", "organization_id", "product_id", "warehouse_id", "on_hand", "reserved", "quarantined")


def stock_lock_sql(*, warehouse_id: str, product_ids: str) -> str:
    """The one way stock rows are locked, as SQL for lean statements that lock them among other
    reads (the order intake): the rows of the products in the warehouse, in product order, with
    `STOCK_COLUMNS`. `warehouse_id` is an SQL expression, `product_ids` a condition on product_id."""
    return (
        f"SELECT {', '.join(STOCK_COLUMNS)} FROM inventory_stock"  # noqa: S608
        f" WHERE warehouse_id = {warehouse_id} AND {product_ids} ORDER BY product_id{sql.lock_clause()}"
    )


def _lock_stock(warehouse: Warehouse, product_ids: list[int]) -> list[Stock]:
    # Lean SQL: this lock is on every order's path (core/sql.py).
    condition = sql.any_of("product_id", product_ids, "bigint")
    rows = sql.fetch(stock_lock_sql(warehouse_id="%s", product_ids=condition.sql), [warehouse.pk, *condition.params])
    return [sql.instance(Stock, STOCK_COLUMNS, row) for row in rows]


def stock_for_update(*, warehouse: Warehouse, product_ids: Iterable[int]) -> dict[int, Stock]:
    """Lock the stock rows of these products in this warehouse, creating missing ones.

    Rows a product gets on first use are created and locked after the existing ones; two
    transactions would have to create rows for the same products at the same moment, in another
    order, to deadlock, and the database would then refuse one of them.
    """
    wanted = sorted(set(product_ids))
    locked = {stock.product_id: stock for stock in _lock_stock(warehouse, wanted)}
    missing = [pid for pid in wanted if pid not in locked]
    if missing:
        owners = dict(Product.objects.filter(pk__in=missing).values_list("pk", "organization_id"))
        Stock.objects.bulk_create(
            [Stock(product_id=pid, warehouse=warehouse, organization_id=owners[pid]) for pid in missing],
            ignore_conflicts=True,
        )
        locked |= {stock.product_id: stock for stock in _lock_stock(warehouse, missing)}
    return locked


def bin_stock_for_update(*, product: Product, bins: Iterable[Bin]) -> dict[int, BinStock]:
    """Lock (creating when missing) a product's rows in these bins, in bin order."""
    bin_ids = sorted({b.pk for b in bins})
    BinStock.objects.bulk_create(
        [BinStock(product=product, bin_id=bin_id, organization_id=product.organization_id) for bin_id in bin_ids],
        ignore_conflicts=True,
    )
    locked = (
        BinStock.objects.filter(product=product, bin_id__in=bin_ids).order_by("bin_id").select_for_update(of=("self",))
    )
    return {row.bin_id: row for row in locked}


def bin_stock_of_product_for_update(*, product: Product, warehouse: Warehouse) -> list[BinStock]:
    """Lock every bin row holding this product in the warehouse, in walking (bin code) order."""
    return list(
        BinStock.objects.filter(product=product, bin__warehouse=warehouse, quantity__gt=0)
        .select_related("bin")
        .order_by("bin__code", "bin_id")
        .select_for_update(of=("self",))
    )


def inbound_for_update(inbound_id: int) -> InboundShipment:
    return InboundShipment.objects.select_for_update(of=("self",)).select_related("warehouse").get(pk=inbound_id)


def cycle_count_for_update(count_id: int) -> CycleCount:
    return CycleCount.objects.select_for_update(of=("self",)).select_related("bin", "product").get(pk=count_id)
