"""Domain events for stock: one per product and warehouse whose balances a transaction changed."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from allied.core.events import EventRow
from allied.core.models import DomainEvent
from allied.inventory.models import Stock


def stock_levels_changed(stocks: Iterable[Stock], *, cause: str) -> None:
    """Record the new balances of these (locked, updated) stock rows, in one insert."""
    DomainEvent.objects.bulk_create(stock_level_events(stocks, cause=cause))


def stock_level_events(stocks: Iterable[Stock], *, cause: str) -> list[DomainEvent]:
    """One unsaved `inventory.level_changed` event per stock row, with its balances now."""
    return [
        DomainEvent(
            organization_id=stock.organization_id,
            type="inventory.level_changed",
            aggregate_type="inventory.stock",
            aggregate_id=str(stock.pk),
            payload=_level_payload(stock, cause),
        )
        for stock in {stock.pk: stock for stock in stocks}.values()
    ]


def stock_level_event_rows(stocks: Iterable[Stock], *, cause: str, at: datetime) -> list[EventRow]:
    """The same events as rows, for the lean intake path."""
    return [
        EventRow(
            stock.organization_id,
            "inventory.level_changed",
            "inventory.stock",
            str(stock.pk),
            _level_payload(stock, cause),
            at,
        )
        for stock in {stock.pk: stock for stock in stocks}.values()
    ]


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
