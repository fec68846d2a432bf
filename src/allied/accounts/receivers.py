"""Authentication hooks: django-allauth reports sign-ins and MFA changes only through signals."""

from typing import Any

from allauth.account.signals import password_changed, password_reset
from allauth.mfa.signals import authenticator_added, authenticator_removed, authenticator_reset
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from allied.accounts.services import security_event_record


@receiver(user_logged_in, dispatch_uid="allied.audit.login")
def _audit_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    security_event_record(action="auth.login", user=user)


@receiver(user_logged_out, dispatch_uid="allied.audit.logout")
def _audit_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        security_event_record(action="auth.logout", user=user)


@receiver(password_changed, dispatch_uid="allied.audit.password_changed")
@receiver(password_reset, dispatch_uid="allied.audit.password_reset")
def _audit_password(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    security_event_record(action="auth.password_changed", user=user)


@receiver(authenticator_added, dispatch_uid="allied.audit.mfa_added")
def _audit_mfa_added(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    security_event_record(action="mfa.added", user=user, changes={"type": authenticator.type})


@receiver(authenticator_removed, dispatch_uid="allied.audit.mfa_removed")
def _audit_mfa_removed(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    security_event_record(action="mfa.removed", user=user, changes={"type": authenticator.type})


@receiver(authenticator_reset, dispatch_uid="allied.audit.mfa_reset")
def _audit_mfa_reset(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    security_event_record(action="mfa.reset", user=user, changes={"type": authenticator.type})
