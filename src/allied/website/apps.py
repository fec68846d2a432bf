from django.apps import AppConfig


class WebsiteConfig(AppConfig):
    name = "allied.website"
    label = "website"
    verbose_name = "Public website"
