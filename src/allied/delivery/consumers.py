"""What the last mile does when something happens elsewhere: a parcel handed to AES's riders
becomes a drop-off at the hub that serves its address; one handed to a courier company becomes a
drop-off with that courier, booked by a task (a request to the courier never runs in here)."""

from allied.accounts.policy import Actor
from allied.core.carriers import carrier_name
from allied.core.models import DomainEvent
from allied.core.outbox import consumer
from allied.delivery.services.couriers import courier_books, courier_task_from_handover
from allied.delivery.services.tasks import delivery_task_from_handover
from allied.delivery.tasks import book_courier_task
from allied.orders.models import Order


@consumer("delivery.handovers", event_types=["order.handed_over"])
def drop_off_from_handover(event: DomainEvent) -> None:
    carrier = str(event.payload.get("carrier") or "")
    if carrier == "aes_riders":
        order = Order.objects.get(pk=int(event.payload["id"]))
        delivery_task_from_handover(order=order, actor=Actor.system("Handover to AES riders"))
    elif courier_books(carrier):
        order = Order.objects.get(pk=int(event.payload["id"]))
        task = courier_task_from_handover(order=order, actor=Actor.system(f"Handover to {carrier_name(carrier)}"))
        if task is not None and not task.consignment_id:
            book_courier_task.enqueue(task.pk)
