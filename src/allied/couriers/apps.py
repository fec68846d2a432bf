from django.apps import AppConfig


class CouriersConfig(AppConfig):
    name = "allied.couriers"
    label = "couriers"
    verbose_name = "Courier companies"

    def ready(self) -> None:
        from allied.core.carriers import carrier_adapter_register
        from allied.couriers import pathao, steadfast  # noqa: F401  (each registers its adapter)
        from allied.couriers.base import ADAPTERS

        for code, adapter in ADAPTERS.items():
            carrier_adapter_register(code, adapter)
