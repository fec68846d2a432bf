from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_subscriptions(**kwargs: Any) -> None:
    from allied.core.outbox import subscriptions_sync

    subscriptions_sync()


class CoreConfig(AppConfig):
    name = "allied.core"
    label = "core"
    verbose_name = "Allied core"

    def ready(self) -> None:
        from allied.core import privacy, tasks
        from allied.core.logging import configure_structlog
        from allied.core.secret_masking import secrets_register_configured
        from allied.core.vault import TEXT, sealed_fields_register

        tasks.connect_retry_handler()
        post_migrate.connect(_sync_subscriptions, sender=self, dispatch_uid="allied.core.outbox.sync")
        privacy.register_core_models()
        sealed_fields_register("core.Subscription", secret=TEXT, previous_secret=TEXT)  # endpoints' signing secrets
        secrets_register_configured()
        configure_structlog()
