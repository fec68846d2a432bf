from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "allied.delivery"
    label = "delivery"
    verbose_name = "Last-mile delivery"

    def ready(self) -> None:
        from allied.delivery import consumers, privacy, tasks  # noqa: F401  (registrations)
        from allied.delivery.services import failed  # noqa: F401  (its consumer)
