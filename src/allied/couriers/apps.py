from django.apps import AppConfig


class CouriersConfig(AppConfig):
    name = "allied.couriers"
    label = "couriers"
    verbose_name = "Courier companies"

    def ready(self) -> None:
        from allied.couriers import pathao, steadfast  # noqa: F401  (each registers its adapter in base.ADAPTERS)
