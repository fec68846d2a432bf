"""Secrets at rest: encrypted with the current vault key, readable with any configured key."""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class VaultError(Exception):
    pass


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in settings.VAULT_KEYS])


def vault_encrypt(plaintext: str, *, purpose: str) -> str:
    """Encrypt for one purpose; a value sealed for one purpose never opens for another."""
    return _fernet().encrypt(f"{purpose}\x00{plaintext}".encode()).decode()


def vault_decrypt(token: str, *, purpose: str) -> str:
    try:
        opened = _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise VaultError("The secret cannot be opened with the configured vault keys.") from error
    sealed_purpose, _, plaintext = opened.partition("\x00")
    if sealed_purpose != purpose:
        raise VaultError("The secret was sealed for another purpose.")
    return plaintext


def vault_rotate(token: str) -> str:
    """Re-encrypt with the current (first) key, after a new key is put in front."""
    return _fernet().rotate(token.encode()).decode()
