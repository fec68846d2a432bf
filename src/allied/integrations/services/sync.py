"""Talking to the stores: reconciliation (orders changed since the checkpoint are fetched and taken
in through the inbox, so a missed webhook is caught), answering Shopify's fulfillment requests, and
telling stores what left with which carrier. Requests to a store run outside any transaction; what
they bring back is written in short transactions of its own."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from allied.accounts.policy import Actor
from allied.core.errors import Conflict
from allied.integrations.connectors import FulfillmentRequest, Shipment, StoreOrder, TakeIn, connector_for
from allied.integrations.models import Connection, ConnectionStatus, InboxMessage, InboxStatus
from allied.integrations.services.inbox import inbox_receive
from allied.orders.models import Order, OrderStatus
from allied.orders.services.lifecycle import order_cancel

POLL_OVERLAP = timedelta(minutes=2)  # a store's clock and its commit order are not exact
NOT_YET_SHIPPED = {OrderStatus.RECEIVED, OrderStatus.ALLOCATED, OrderStatus.BACKORDERED, OrderStatus.PICKING}


@dataclass
class PollResult:
    fetched: int = 0
    kept: int = 0  # new states put in the inbox (the rest were already there)
    pages: int = 0


def _keep(connection: Connection, orders: list[StoreOrder]) -> int:
    kept = 0
    with transaction.atomic(durable=True):
        for order in orders:
            already = InboxMessage.objects.filter(
                connection=connection, store_order_id=order.store_order_id, store_updated_at=order.updated_at
            )
            if already.exists():  # this very state came by webhook: one row per state, one problem shown
                continue
            key = f"poll:{order.store_order_id}:{order.updated_at.isoformat()}"
            body = json.dumps(order.payload, default=str).encode()
            if inbox_receive(connection=connection, topic=order.topic, delivery_key=key, body=body):
                kept += 1
    return kept


def connection_poll(
    *,
    connection_id: int,
    since: datetime | None = None,
    progress: Callable[[PollResult], None] | None = None,
) -> PollResult:
    """Fetch the orders the store changed since the connection's checkpoint (or `since`, for a
    backfill) and keep each state in the inbox, where the same processing as a webhook applies it
    once. The checkpoint moves only forward, page by page, so a poll cut short resumes."""
    connection = Connection.objects.get(pk=connection_id)
    if connection.status != ConnectionStatus.ACTIVE:
        return PollResult()
    start = since or (connection.poll_checkpoint or connection.created_at) - POLL_OVERLAP
    client = connector_for(connection.kind).client(connection)
    result, cursor, error = PollResult(), None, ""
    try:
        while True:
            page = client.orders_updated_since(start, cursor)
            result.pages += 1
            result.fetched += len(page.orders)
            result.kept += _keep(connection, page.orders)
            newest = max((order.updated_at for order in page.orders), default=None)
            if newest is not None and since is None:
                Connection.objects.filter(pk=connection.pk).update(poll_checkpoint=newest)
            if progress:
                progress(result)
            cursor = page.cursor
            if cursor is None:
                break
    except Exception as failure:
        error = f"{type(failure).__name__}: {failure}"[:2000]
        raise
    finally:
        client.close()
        Connection.objects.filter(pk=connection.pk).update(last_poll_at=timezone.now(), last_poll_error=error)
    return result


def connections_due_for_poll(*, now: datetime | None = None) -> list[int]:
    cutoff = (now or timezone.now()) - timedelta(minutes=settings.ALLIED_STORE_POLL_MINUTES)
    due = Connection.objects.filter(status=ConnectionStatus.ACTIVE).exclude(last_poll_at__gt=cutoff)
    return list(due.values_list("pk", flat=True))


COMPARISON_LIMIT = 100  # ids listed on each side; the counts are complete


def connection_compare(*, connection_id: int, days: int = 7, now: datetime | None = None) -> dict[str, Any]:
    """Compare the orders the store changed in the last `days` with Allied's: store orders Allied
    should have taken in but has not (with the reason Allied gave, if any; one whose delivery waits
    in the inbox is counted as waiting, not missing), and Allied orders of
    this channel taken in meanwhile that the store does not list. Kept on the connection for the
    health page; returns it."""
    connection = Connection.objects.get(pk=connection_id)
    now = now or timezone.now()
    since = now - timedelta(days=days)
    connector = connector_for(connection.kind)
    client = connector.client(connection)
    listed: set[str] = set()
    expected: dict[str, str] = {}  # store order id -> why it is not in Allied, when it could not be read
    cursor = None
    try:
        while True:
            page = client.orders_updated_since(since - timedelta(days=1), cursor)
            for order in page.orders:
                listed.add(order.store_order_id)
                try:
                    if isinstance(connector.action(order.topic, order.payload), TakeIn):
                        expected[order.store_order_id] = ""
                except Exception as unreadable:
                    expected[order.store_order_id] = f"Unreadable: {unreadable}"
            cursor = page.cursor
            if cursor is None:
                break
    finally:
        client.close()
    orders = Order.objects.filter(organization_id=connection.organization_id, channel=connection.kind)
    taken_in = set(orders.filter(external_id__in=list(expected)).values_list("external_id", flat=True))
    waiting = set(
        InboxMessage.objects.filter(
            connection=connection, store_order_id__in=list(expected), status=InboxStatus.PENDING
        ).values_list("store_order_id", flat=True)
    )
    missing = sorted(set(expected) - taken_in - waiting, key=lambda store_id: (len(store_id), store_id))
    reasons = dict(
        InboxMessage.objects.filter(
            connection=connection,
            store_order_id__in=missing,
            status__in=[InboxStatus.REJECTED, InboxStatus.FAILED],
        ).values_list("store_order_id", "reason")
    )
    unlisted = orders.filter(created_at__gte=since).exclude(external_id__in=list(listed)).order_by("created_at")
    comparison = {
        "at": now.isoformat(),
        "days": days,
        "store_orders": len(expected),
        "allied_orders": len(taken_in),
        "waiting": len(waiting - taken_in),  # received, on their way in: not missing
        "missing_in_allied_count": len(missing),
        "missing_in_allied": [
            {"store_order_id": store_id, "reason": expected[store_id] or reasons.get(store_id) or "Never received."}
            for store_id in missing[:COMPARISON_LIMIT]
        ],
        "missing_in_store_count": unlisted.count(),
        "missing_in_store": [
            {"number": number, "store_order_id": external_id}
            for number, external_id in unlisted.values_list("number", "external_id")[:COMPARISON_LIMIT]
        ],
    }
    Connection.objects.filter(pk=connection.pk).update(comparison=comparison)
    return comparison


def fulfillment_request_answer(*, message_id: int) -> str:
    """Answer the store's request to fulfil (or cancel) a fulfillment order: fulfil what Allied took
    in, refuse what it holds with the hold's reason; cancel what has not left the floor yet and
    refuse a cancellation of what has. Returns the answer given."""
    message = InboxMessage.objects.select_related("connection__organization").get(pk=message_id)
    connection = message.connection
    action = connector_for(connection.kind).action(message.topic, json.loads(message.body))
    assert isinstance(action, FulfillmentRequest)
    client: Any = connector_for(connection.kind).client(connection)
    try:
        store_order_id = client.fulfillment_order_store_order_id(action.fulfillment_order_id)
        order = Order.objects.filter(
            organization_id=connection.organization_id, channel=connection.kind, external_id=store_order_id
        ).first()
        accept, note = _decide(connection, message, action, order, store_order_id)
        if action.cancellation:
            client.cancellation_request_answer(action.fulfillment_order_id, accept=accept, message=note)
        else:
            client.fulfillment_request_answer(action.fulfillment_order_id, accept=accept, message=note)
    finally:
        client.close()
    answer = f"{'Accepted' if accept else 'Rejected'}: {note}"
    InboxMessage.objects.filter(pk=message.pk).update(reason=answer[:2000], order=order)
    return answer


class OrderNotYetIn(Exception):
    """The store asked before its order reached Allied: the task retries."""


def _decide(
    connection: Connection, message: InboxMessage, action: FulfillmentRequest, order: Order | None, store_order_id: str
) -> tuple[bool, str]:
    if action.cancellation:
        if order is None or order.status == OrderStatus.CANCELLED:
            return True, "Nothing of it has left Allied."
        if order.status not in NOT_YET_SHIPPED:
            return False, f"Already {order.get_status_display().lower()}."
        actor = Actor.system(f"{connection.get_kind_display()} connection {connection.pk}")
        try:
            with transaction.atomic(durable=True):
                order_cancel(
                    order=order, reason=f"Cancellation requested in {connection.get_kind_display()}", actor=actor
                )
        except Conflict as refused:
            return False, refused.detail
        return True, f"Order {order.number} cancelled before it left."
    if order is not None:
        if order.status == OrderStatus.CANCELLED:
            return False, f"Order {order.number} is cancelled in Allied."
        return True, f"Allied order {order.number}."
    held = (
        InboxMessage.objects.filter(connection=connection, store_order_id=store_order_id, status=InboxStatus.REJECTED)
        .exclude(pk=message.pk)
        .first()
    )
    if held is not None:
        return False, held.reason[:250]
    raise OrderNotYetIn(f"Store order {store_order_id} has not reached Allied yet.")


def shipment_confirm(*, connection_id: int, order_id: int) -> None:
    """Tell the store its order left with a carrier: tracking number, company and link."""
    connection = Connection.objects.get(pk=connection_id)
    if connection.status != ConnectionStatus.ACTIVE:
        return
    order = Order.objects.get(pk=order_id, organization_id=connection.organization_id)
    shipment = Shipment(
        store_order_id=order.external_id,
        order_number=order.number,
        tracking_number=order.tracking_code,
        company=order.carrier or "Allied",
        url=f"{settings.ALLIED_BASE_URL}/track/{order.tracking_code}",
        lines=[(line.product.sku, line.quantity) for line in order.lines.select_related("product")],
    )
    client = connector_for(connection.kind).client(connection)
    try:
        client.shipment_confirm(shipment)
    finally:
        client.close()
