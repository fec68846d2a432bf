from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "allied.accounts"
    label = "accounts"
    verbose_name = "Accounts and organizations"

    def ready(self) -> None:
        from allied.accounts import privacy, receivers  # noqa: F401
