from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from allied.accounts.policy import ADMIN_ACCESS, actor_can
from allied.core.errors import PermissionDenied


class AlliedAdminSite(admin.AdminSite):
    """Django admin for AES administrators only, and only after two-factor sign-in."""

    site_header = "Allied administration"
    site_title = "Allied admin"
    index_title = "Data administration"

    def has_permission(self, request: HttpRequest) -> bool:
        # Imported here: this module loads while the app registry is still being populated.
        from allauth.mfa.models import Authenticator
        from allauth.mfa.utils import is_mfa_enabled

        user = request.user
        return bool(
            user.is_active
            and user.is_authenticated
            and actor_can(getattr(request, "actor", None), ADMIN_ACCESS)
            and is_mfa_enabled(user, [Authenticator.Type.TOTP])
        )

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Everyone signs in through the one login page, which enforces MFA; someone signed in
        already, without admin access or its second factor, is refused (not sent back to sign in,
        which would send them here again)."""
        if request.user.is_authenticated:
            raise PermissionDenied("The admin is for AES administrators signed in with their authenticator app.")
        next_url = request.GET.get("next") or reverse("admin:index")
        return redirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")


class AlliedAdminConfig(AdminConfig):
    default_site = "allied.accounts.admin_site.AlliedAdminSite"
