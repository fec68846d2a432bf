from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "allied.fulfillment"
    label = "fulfillment"
    verbose_name = "Fulfilment"

    def ready(self) -> None:
        from allied.fulfillment import privacy  # noqa: F401
