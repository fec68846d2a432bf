from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "allied.privacy"
    label = "privacy"
    verbose_name = "Privacy"

    def ready(self) -> None:
        from allied.privacy import privacy  # noqa: F401  (declares the privacy app's own personal data)
