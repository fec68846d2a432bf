from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "allied.accounts"
    label = "accounts"
    verbose_name = "Accounts and organizations"

    def ready(self) -> None:
        from allied.accounts import privacy, receivers  # noqa: F401
        from allied.core.vault import json_values, sealed_fields_register

        # allauth keeps a TOTP secret, a recovery-code seed and migrated codes sealed by our MFA adapter.
        sealed_fields_register("mfa.Authenticator", data=json_values("secret", "seed", "migrated_codes"))
