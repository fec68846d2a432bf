"""What the last mile does when something happens elsewhere: a parcel handed to AES's riders
becomes a drop-off at the hub that serves its address."""

from allied.accounts.policy import Actor
from allied.core.models import DomainEvent
from allied.core.outbox import consumer
from allied.delivery.services.tasks import delivery_task_from_handover
from allied.orders.models import Order


@consumer("delivery.handovers", event_types=["order.handed_over"])
def drop_off_from_handover(event: DomainEvent) -> None:
    if event.payload.get("carrier") != "aes_riders":
        return
    order = Order.objects.get(pk=int(event.payload["id"]))
    delivery_task_from_handover(order=order, actor=Actor.system("Handover to AES riders"))
