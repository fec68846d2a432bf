"""Domain events for stock: one per product and warehouse whose balances a transaction changed."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from allied.core.event_types import STOCK_LEVEL_CHANGED
from allied.core.events import EventRow, domain_event, domain_events_record, event_row
from allied.inventory.models import Stock


def stock_levels_changed(stocks: Iterable[Stock], *, cause: str) -> None:
    """Record the new balances of these (locked, updated) stock rows and their deliveries."""
    domain_events_record(
        [
            domain_event(
                type=STOCK_LEVEL_CHANGED,
                organization_id=stock.organization_id,
                aggregate_type="inventory.stock",
                aggregate_id=stock.pk,
                payload=_level_payload(stock, cause),
            )
            for stock in _each_once(stocks)
        ]
    )


def stock_level_event_rows(stocks: Iterable[Stock], *, cause: str, at: datetime) -> list[EventRow]:
    """The same events as rows, for the lean intake path."""
    return [
        event_row(
            type=STOCK_LEVEL_CHANGED,
            organization_id=stock.organization_id,
            aggregate_type="inventory.stock",
            aggregate_id=stock.pk,
            payload=_level_payload(stock, cause),
            at=at,
        )
        for stock in _each_once(stocks)
    ]


def _each_once(stocks: Iterable[Stock]) -> Iterable[Stock]:
    return {stock.pk: stock for stock in stocks}.values()


def _level_payload(stock: Stock, cause: str) -> dict[str, Any]:
    return {
        "product_id": stock.product_id,
        "warehouse_id": stock.warehouse_id,
        "on_hand": stock.on_hand,
        "reserved": stock.reserved,
        "quarantined": stock.quarantined,
        "available": stock.available,
        "cause": cause,
    }
