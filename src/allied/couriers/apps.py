from django.apps import AppConfig


class CouriersConfig(AppConfig):
    name = "allied.couriers"
    label = "couriers"
    verbose_name = "Courier companies"

    def ready(self) -> None:
        from allied.core.carriers import carrier_adapter_register
        from allied.core.vault import JSON_VALUES, sealed_fields_register
        from allied.couriers import pathao, privacy, steadfast  # noqa: F401  (each registers its adapter in base.ADAPTERS)
        from allied.couriers.base import ADAPTERS

        for code, adapter in ADAPTERS.items():
            carrier_adapter_register(code, adapter)
        sealed_fields_register("couriers.CourierAccount", credentials=JSON_VALUES)
