from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "allied.core"
    label = "core"
    verbose_name = "Allied core"

    def ready(self) -> None:
        from allied.core import privacy, tasks

        tasks.connect_retry_handler()
        privacy.register_core_models()
