from django.apps import AppConfig


class WebsiteConfig(AppConfig):
    name = "allied.website"
    label = "website"
    verbose_name = "Public website"

    def ready(self) -> None:
        from allied.website import privacy  # noqa: F401  (declares the website's personal data)
