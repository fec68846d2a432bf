from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "allied.integrations"
    label = "integrations"
    verbose_name = "Store integrations"

    def ready(self) -> None:
        from allied.core.vault import JSON_VALUES, TEXT, sealed_fields_register
        from allied.integrations import consumers, marketplace, privacy, shopify, woocommerce  # noqa: F401  (registrations)

        sealed_fields_register("integrations.Connection", credentials=JSON_VALUES, previous_webhook_secret=TEXT)
