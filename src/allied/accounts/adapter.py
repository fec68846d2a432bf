from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.http import HttpRequest

from allied.accounts.roles import MFA_REQUIRED_ROLES
from allied.accounts.services import security_event_record
from allied.core.vault import vault_decrypt, vault_encrypt


class AlliedAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """No open sign-up: people join through invitations."""
        return False

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        security_event_record(action="auth.login_failed", user=None, label=str(credentials.get("email", ""))[:200])


class AlliedMfaAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        """TOTP secrets and recovery seeds are stored encrypted with the vault keys."""
        return vault_encrypt(text, purpose="mfa")

    def decrypt(self, encrypted_text: str) -> str:
        return vault_decrypt(encrypted_text, purpose="mfa")

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        """People whose role requires MFA cannot switch their authenticator app off."""
        if authenticator.type != Authenticator.Type.TOTP:
            return True
        return not authenticator.user.memberships.filter(role__in=MFA_REQUIRED_ROLES).exists()
