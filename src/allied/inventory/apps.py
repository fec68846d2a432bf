from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "allied.inventory"
    label = "inventory"
    verbose_name = "Inventory"

    def ready(self) -> None:
        from allied.inventory import privacy  # noqa: F401
