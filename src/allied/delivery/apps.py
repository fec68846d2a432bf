from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "allied.delivery"
    label = "delivery"
    verbose_name = "Last-mile delivery"

    def ready(self) -> None:
        from allied.delivery import consumers, notifications, privacy, tasks  # noqa: F401  (registrations)
        from allied.delivery.services import failed  # noqa: F401  (its consumer)
        from allied.delivery.views.tracking import order_tracking_steps
        from allied.orders.selectors import order_delivery_steps_source

        order_delivery_steps_source("delivery", order_tracking_steps)
