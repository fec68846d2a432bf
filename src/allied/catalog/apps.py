from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "allied.catalog"
    label = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from allied.catalog import privacy  # noqa: F401
