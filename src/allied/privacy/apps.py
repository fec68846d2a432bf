from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _notice_refresh(**kwargs: Any) -> None:
    from allied.privacy.services.notice import notice_refresh

    notice_refresh()


class PrivacyConfig(AppConfig):
    name = "allied.privacy"
    label = "privacy"
    verbose_name = "Privacy"

    def ready(self) -> None:
        from allied.privacy import privacy, tasks  # noqa: F401  (declarations; scheduled jobs)

        # A deploy that changes what is kept publishes a new notice version with its migrations.
        post_migrate.connect(_notice_refresh, sender=self, dispatch_uid="allied.privacy.notice_refresh")
