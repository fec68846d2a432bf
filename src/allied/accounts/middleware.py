from collections.abc import Callable

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from allied.accounts.policy import Actor, role_requires_mfa
from allied.accounts.selectors import memberships_of

ACTIVE_ORGANIZATION_SESSION_KEY = "allied_active_organization"
MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz", "/api/")


def actor_for_request(request: HttpRequest) -> Actor:
    """The signed-in person acting for their active organization (chosen in the session)."""
    user = request.user
    if not user.is_authenticated:
        return Actor()
    memberships = list(memberships_of(user))
    if not memberships:
        return Actor(user=user)
    chosen = request.session.get(ACTIVE_ORGANIZATION_SESSION_KEY)
    membership = next((m for m in memberships if m.organization.slug == chosen), memberships[0])
    return Actor(user=user, organization=membership.organization, role=membership.role)


class ActiveMembershipMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = SimpleLazyObject(lambda: actor_for_request(request))  # type: ignore[attr-defined]
        if request.user.is_authenticated and request.user.language:  # type: ignore[union-attr]
            # The language chosen on the profile page wins over the browser's.
            translation.activate(request.user.language)  # type: ignore[union-attr]
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class RequireMfaMiddleware:
    """Admins, finance and privacy officers must set up an authenticator app before anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.user.is_authenticated
            and not request.path.startswith(MFA_EXEMPT_PREFIXES)
            and any(role_requires_mfa(m.role) for m in memberships_of(request.user))
            and not is_mfa_enabled(request.user, [Authenticator.Type.TOTP])
        ):
            messages.warning(
                request, "Your role requires two-factor authentication. Set up an authenticator app to continue."
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
