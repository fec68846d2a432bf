"""Telling stores what Allied can sell. A stock change marks the product for every store of its
partner that syncs stock and queues one push for the store unless one is queued already; the
changes that arrive while it waits go in it. A store gets a push at most every
ALLIED_STOCK_PUSH_SECONDS, with each quantity as it is when the push runs (summed over every
warehouse), so a burst of changes costs the store one request per batch of SKUs."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from allied.accounts.policy import Actor
from allied.catalog.models import Product
from allied.core.audit import audit_record
from allied.core.errors import Conflict
from allied.integrations import tasks
from allied.integrations.connectors import connector_for
from allied.integrations.locks import connection_locked
from allied.integrations.models import Connection, ConnectionStatus, StockPushItem
from allied.integrations.services.connections import require_manage
from allied.inventory.selectors import available_by_sku


def _mark(connection_id: int, product_ids: Iterable[int], now: datetime) -> None:
    """Keep the products pending for the store and make sure a push is queued (call in a transaction)."""
    connection = connection_locked(connection_id)
    StockPushItem.objects.bulk_create(
        [
            StockPushItem(
                organization_id=connection.organization_id, connection=connection, product_id=pk, changed_at=now
            )
            for pk in product_ids
        ],
        update_conflicts=True,
        unique_fields=["connection", "product"],
        update_fields=["changed_at"],
    )
    if connection.stock_push_due_at is None:
        due = now
        if connection.last_stock_push_at:
            due = max(now, connection.last_stock_push_at + timedelta(seconds=settings.ALLIED_STOCK_PUSH_SECONDS))
        Connection.objects.filter(pk=connection.pk).update(stock_push_due_at=due)
        tasks.push_stock.using(run_after=due).enqueue(connection.pk)


@transaction.atomic(savepoint=False)
def stock_changed(*, organization_id: int, product_ids: Iterable[int], now: datetime | None = None) -> int:
    """Products' balances changed: every active store of the partner that syncs stock will be told.
    Returns how many stores will be."""
    ids = sorted(set(product_ids))
    connections = Connection.objects.filter(
        organization_id=organization_id, status=ConnectionStatus.ACTIVE, stock_sync=True
    ).values_list("pk", flat=True)
    count = 0
    for connection_id in connections:
        _mark(connection_id, ids, now or timezone.now())
        count += 1
    return count


@transaction.atomic(savepoint=False)
def connection_stock_push_all(*, connection: Connection, actor: Actor) -> int:
    """Queue every product of the partner for the store (after connecting, or to repair a store
    whose quantities were edited by hand). Returns how many products are queued."""
    require_manage(actor, connection.organization)
    if connection.status != ConnectionStatus.ACTIVE or not connection.stock_sync:
        raise Conflict("Stock is pushed only to an active connection that syncs stock.")
    ids = list(Product.objects.filter(organization_id=connection.organization_id).values_list("pk", flat=True))
    _mark(connection.pk, ids, timezone.now())
    audit_record(
        action="integration.stock_resync", actor=actor, organization=connection.organization, target=connection
    )
    return len(ids)


@dataclass
class StockPushResult:
    pushed: dict[str, int] = field(default_factory=dict)  # sku -> quantity the store was told
    unknown: list[str] = field(default_factory=list)  # SKUs the store has no product for


def connection_stock_push(*, connection_id: int) -> StockPushResult:
    """Tell the store the available quantity of every product pending for it. Pending rows are
    removed only if they did not change while the store was being told; a failure keeps them all
    and is raised (the task retries), with its reason on the connection for the health page."""
    with transaction.atomic(durable=True):
        connection = connection_locked(connection_id)
        Connection.objects.filter(pk=connection.pk).update(stock_push_due_at=None)
        pending = dict(StockPushItem.objects.filter(connection=connection).values_list("product_id", "changed_at"))
    result = StockPushResult()
    if not pending:
        return result
    if connection.status == ConnectionStatus.DISCONNECTED or not connection.stock_sync:
        StockPushItem.objects.filter(connection=connection).delete()
        return result
    if connection.status != ConnectionStatus.ACTIVE:
        return result  # paused: the rows wait for the resume
    result.pushed = available_by_sku(list(pending))
    client = connector_for(connection.kind).client(connection)
    try:
        result.unknown = client.stock_set(result.pushed)
    except Exception as failure:
        Connection.objects.filter(pk=connection.pk).update(
            last_stock_push_error=f"{type(failure).__name__}: {failure}"[:2000]
        )
        raise
    finally:
        client.close()
    with transaction.atomic(durable=True):
        told = Q()
        for product_id, changed_at in pending.items():
            told |= Q(product_id=product_id, changed_at__lte=changed_at)
        StockPushItem.objects.filter(told, connection=connection).delete()
        note = f"The store has no product for {len(result.unknown)} SKU(s): {', '.join(result.unknown[:20])}"
        Connection.objects.filter(pk=connection.pk).update(
            last_stock_push_at=timezone.now(), last_stock_push_error=note if result.unknown else ""
        )
        if StockPushItem.objects.filter(connection=connection).exists():
            _mark(connection.pk, [], timezone.now())  # changed while the store was told: once more
    return result
