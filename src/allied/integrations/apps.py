from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "allied.integrations"
    label = "integrations"
    verbose_name = "Store integrations"

    def ready(self) -> None:
        from allied.integrations import privacy, shopify, woocommerce  # noqa: F401  (declarations, connectors)
        from allied.integrations.services import subscriptions  # noqa: F401  (its outbox consumer)
