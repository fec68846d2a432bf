"""How many units an order's lines take from the locked stock rows, and the reservation of them."""

import string

from allied.accounts.policy import Actor
from allied.inventory.locks import stock_for_update
from allied.inventory.models import MoveReason, Stock, StockMove, Warehouse
from allied.inventory.services import (
    Reference,
    stock_move,
)
from allied.orders.models import Order, OrderLine, OrderStatus

NUMBER_ALPHABET = string.ascii_uppercase.replace("O", "").replace("I", "") + "23456789"


def take_available(
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


def reserve(
    order: Order, stocks: dict[int, Stock], takes: dict[int, int], actor: Actor
) -> tuple[list[StockMove], list[Stock]]:
    """Reserve the decided units on the locked rows; returns the ledger rows and the changed stock."""
    reference = Reference("order", str(order.pk))
    moves = [
        stock_move(stocks[product_id], reason=MoveReason.RESERVE, actor=actor, reference=reference, reserved=take)
        for product_id, take in sorted(takes.items())
    ]
    return moves, [stocks[product_id] for product_id in sorted(takes)]


def allocate(order: Order, lines: list[OrderLine], actor: Actor) -> tuple[list[StockMove], list[Stock]]:
    """Reserve what is available for each line of a stored order."""
    stocks, takes = take_available(order.warehouse, lines)
    for line in lines:
        line.allocated_quantity += takes.get(line.product_id, 0)
    return reserve(order, stocks, takes, actor)


def status_after_allocation(lines: list[OrderLine]) -> str:
    """Allocated when every line has all its units, else backordered."""
    return OrderStatus.ALLOCATED if all(not line.missing_quantity for line in lines) else OrderStatus.BACKORDERED
