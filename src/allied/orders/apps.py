from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "allied.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from allied.inventory.services import register_availability_listener
        from allied.orders import privacy  # noqa: F401
        from allied.orders.tasks import enqueue_backorder_allocation

        register_availability_listener(enqueue_backorder_allocation)
