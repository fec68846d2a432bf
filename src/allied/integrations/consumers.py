"""What integrations do when something happens in Allied: a store's order handed to a carrier is
confirmed to the store with its tracking, and a stock change is queued for the partner's stores
(tasks, so a store's answer never holds a transaction)."""

from allied.core.models import DomainEvent
from allied.core.outbox import consumer
from allied.integrations import tasks
from allied.integrations.models import Connection, ConnectionStatus
from allied.integrations.services.stock import stock_changed


@consumer("integrations.shipments", event_types=["order.handed_over"])
def store_shipment_confirm(event: DomainEvent) -> None:
    payload = event.payload
    if not payload.get("external_id"):
        return
    connection = Connection.objects.filter(
        organization_id=event.organization_id, kind=payload.get("channel"), status=ConnectionStatus.ACTIVE
    ).first()
    if connection is not None:
        tasks.confirm_shipment.enqueue(connection.pk, int(payload["id"]))


@consumer("integrations.stock", event_types=["inventory.level_changed"])
def store_stock_changed(event: DomainEvent) -> None:
    stock_changed(organization_id=event.organization_id, product_ids=[int(event.payload["product_id"])])
