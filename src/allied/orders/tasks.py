from django.db import transaction
from django.tasks import task

from allied.accounts.policy import Actor
from allied.core.tasks import retrying
from allied.inventory.models import Warehouse
from allied.orders.services.lifecycle import order_allocate_backordered, orders_backordered_for


def enqueue_backorder_allocation(warehouse: Warehouse, product_ids: list[int]) -> None:
    """Inventory calls this inside the transaction that made units available."""
    allocate_backorders.enqueue(warehouse.pk, product_ids)


@retrying(max_attempts=5, base_delay=2, max_delay=60)
@task
def allocate_backorders(warehouse_id: int, product_ids: list[int]) -> int:
    """Serve backordered orders oldest first; running it twice allocates nothing twice."""
    actor = Actor.system("backorder allocation")
    served = 0
    for order_id in orders_backordered_for(warehouse_id=warehouse_id, product_ids=product_ids):
        with transaction.atomic(durable=True):
            order_allocate_backordered(order_id=order_id, actor=actor)
        served += 1
    return served
