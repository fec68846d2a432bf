"""Background work of integrations: the inbox processed, stores reconciled, fulfillment requests
answered and shipments confirmed; each retried with backoff."""

from crontask import cron
from django.db import transaction
from django.tasks import task

from allied.core.tasks import retrying
from allied.integrations.services import inbox  # module import: the inbox enqueues these tasks


@retrying(max_attempts=5, base_delay=5, max_delay=300)
@task
def process_inbox_message(message_id: int) -> str:
    """Apply one delivery; safe to run twice (a processed delivery is left alone)."""
    try:
        with transaction.atomic(durable=True):
            return inbox.inbox_message_process(message_id=message_id)
    except Exception as error:
        with transaction.atomic(durable=True):
            inbox.inbox_message_fail(message_id=message_id, reason=f"{type(error).__name__}: {error}")
        raise


@retrying(max_attempts=6, base_delay=30, max_delay=900)
@task
def poll_connection(connection_id: int, compare: bool = False) -> dict[str, int]:
    """Reconcile one store: what it changed since the checkpoint goes through the inbox; then, when
    asked, its recent orders are compared with Allied's, once what the poll kept is processed
    (the comparison is queued after the inbox's tasks)."""
    from allied.integrations.services.sync import connection_poll

    result = connection_poll(connection_id=connection_id)
    if compare:
        compare_connection.enqueue(connection_id)
    return {"fetched": result.fetched, "kept": result.kept}


@retrying(max_attempts=3, base_delay=30, max_delay=300)
@task
def compare_connection(connection_id: int) -> dict[str, int]:
    """Compare the store's recent orders with Allied's, for the health page."""
    from allied.integrations.services.sync import connection_compare

    comparison = connection_compare(connection_id=connection_id)
    return {key: comparison[key] for key in ("missing_in_allied_count", "missing_in_store_count", "waiting")}


@cron("*/5 * * * *")
@task
def poll_stores() -> int:
    """Every store is reconciled at least every ALLIED_STORE_POLL_MINUTES, so a webhook the store
    never sent (WooCommerce does not retry) is caught within a quarter of an hour."""
    from allied.integrations.services.sync import connections_due_for_poll

    due = connections_due_for_poll()
    for connection_id in due:
        poll_connection.enqueue(connection_id)
    return len(due)


@retrying(max_attempts=8, base_delay=30, max_delay=1800)
@task
def answer_fulfillment_request(message_id: int) -> str:
    from allied.integrations.services.sync import fulfillment_request_answer

    return fulfillment_request_answer(message_id=message_id)


@retrying(max_attempts=10, base_delay=30, max_delay=3600)
@task
def confirm_shipment(connection_id: int, order_id: int) -> None:
    from allied.integrations.services.sync import shipment_confirm

    shipment_confirm(connection_id=connection_id, order_id=order_id)


@retrying(max_attempts=8, base_delay=30, max_delay=1800)
@task
def push_stock(connection_id: int) -> dict[str, int]:
    """Tell one store the available quantity of what changed since its last push."""
    from allied.integrations.services.stock import connection_stock_push

    result = connection_stock_push(connection_id=connection_id)
    return {"pushed": len(result.pushed), "unknown": len(result.unknown)}
