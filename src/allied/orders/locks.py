"""Order rows are locked before stock rows, always. Stock rows are locked only as inventory locks
them (`inventory.locks`), the intake's lean statement included."""

from dataclasses import dataclass
from typing import NamedTuple

from allied.catalog.selectors import products_by_sku_sql
from allied.core import sql
from allied.inventory.locks import STOCK_COLUMNS, stock_lock_sql
from allied.inventory.models import Stock, Warehouse
from allied.inventory.selectors import MAIN_WAREHOUSE_SQL
from allied.orders.models import Order


def order_for_update(order_id: int) -> Order:
    return Order.objects.select_for_update(of=("self",)).select_related("warehouse", "organization").get(pk=order_id)


class ProductForIntake(NamedTuple):
    id: int
    sku: str
    name: str
    is_active: bool


@dataclass(frozen=True)
class IntakeLookup:
    """What taking in an order must know first, read (and locked) in one statement."""

    existing_order_id: int | None  # the same (channel, external id) was taken in before
    number_taken: bool  # the order number drawn for the new order belongs to another
    next_order_id: int
    default_warehouse: Warehouse | None  # AES's main warehouse: the first active one by code
    products: dict[str, ProductForIntake]
    stocks: dict[int, Stock]  # by product id, locked; products without a stock row are missing


def _nulls(count: int) -> str:
    return ", ".join(["NULL"] * count)


def intake_for_update(
    *, organization_id: int, channel: str, external_id: str, number: str, skus: list[str], warehouse_id: int | None
) -> IntakeLookup:
    """One round trip for the order intake, the platform's hottest path (docs/benchmarks.md): it
    also locks the stock rows of the order's products in the warehouse (the main one unless
    given), in product order, as `inventory.locks.stock_for_update` does."""
    # On PostgreSQL an array keeps the one plan on the (product, warehouse) index.
    wanted_ids = "= ANY(ARRAY(SELECT id FROM wanted))" if sql.is_postgresql() else "IN (SELECT id FROM wanted)"
    wanted = sql.any_of("sku", skus, "text")
    locked = stock_lock_sql(
        warehouse_id="coalesce(CAST(%s AS bigint), (SELECT id FROM main))", product_ids=f"product_id {wanted_ids}"
    )
    statement = (
        f"WITH main AS ({MAIN_WAREHOUSE_SQL}),"  # noqa: S608
        f" wanted AS ({products_by_sku_sql(organization_id='%s', skus=wanted.sql)}),"
        f" locked AS ({locked})"
        " SELECT 'order', id, CAST(NULL AS text), CAST(NULL AS text), CAST(NULL AS boolean), CAST(NULL AS bigint),"
        " CAST(NULL AS bigint), CAST(NULL AS bigint), CAST(NULL AS integer), CAST(NULL AS integer),"
        " CAST(NULL AS integer) FROM orders_order WHERE organization_id = %s AND channel = %s AND external_id = %s"
        f" UNION ALL SELECT 'number', id, {_nulls(9)} FROM orders_order WHERE number = %s"
        f" UNION ALL SELECT 'next', {sql.next_id(Order)}, {_nulls(9)}"
        f" UNION ALL SELECT 'warehouse', id, code, {_nulls(8)} FROM main"
        f" UNION ALL SELECT 'product', id, sku, name, is_active, {_nulls(6)} FROM wanted"
        " UNION ALL SELECT 'stock', id, NULL, NULL, NULL, organization_id, product_id, warehouse_id, on_hand,"
        " reserved, quarantined FROM locked"
    )
    params = [organization_id, *wanted.params, warehouse_id, organization_id, channel, external_id, number]
    existing, number_taken, next_id, warehouse, products, stocks = None, False, 0, None, {}, {}
    for kind, row_id, text, name, flag, *stock in sql.fetch(statement, params):
        if kind == "order":
            existing = row_id
        elif kind == "number":
            number_taken = True
        elif kind == "next":
            next_id = row_id
        elif kind == "warehouse":
            warehouse = sql.instance(Warehouse, ("id", "code"), (row_id, text))
        elif kind == "product":
            products[text] = ProductForIntake(row_id, text, name, bool(flag))
        else:
            stocks[stock[1]] = sql.instance(Stock, STOCK_COLUMNS, (row_id, *stock))
    return IntakeLookup(existing, number_taken, next_id, warehouse, products, stocks)
