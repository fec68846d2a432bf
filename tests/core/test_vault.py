import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from allied.core.vault import VaultError, vault_decrypt, vault_encrypt, vault_rotate


def test_sealed_secret_opens_only_for_its_purpose() -> None:
    token = vault_encrypt("shpat_123", purpose="shopify.access_token")

    assert "shpat_123" not in token
    assert vault_decrypt(token, purpose="shopify.access_token") == "shpat_123"
    with pytest.raises(VaultError, match="another purpose"):
        vault_decrypt(token, purpose="woocommerce.consumer_secret")


def test_rotation_keeps_old_secrets_readable_and_reseals_with_the_new_key() -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(VAULT_KEYS=[old_key]):
        token = vault_encrypt("secret", purpose="p")
    with override_settings(VAULT_KEYS=[new_key, old_key]):
        assert vault_decrypt(token, purpose="p") == "secret"
        rotated = vault_rotate(token)
    with override_settings(VAULT_KEYS=[new_key]):
        assert vault_decrypt(rotated, purpose="p") == "secret"
        with pytest.raises(VaultError):
            vault_decrypt(token, purpose="p")
