from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "allied.integrations"
    label = "integrations"
    verbose_name = "Store integrations"

    def ready(self) -> None:
        from allied.core.vault import JSON_VALUES, TEXT, sealed_fields_register
        from allied.integrations import consumers, marketplace, privacy, shopify, woocommerce  # noqa: F401  (registrations)
        from allied.integrations.services import subscriptions  # noqa: F401  (its outbox consumer)

        sealed_fields_register("integrations.Connection", credentials=JSON_VALUES, previous_webhook_secret=TEXT)
