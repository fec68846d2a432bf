from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from allied.accounts.policy import actor_can


def permission_required(permission: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A signed-in member whose role grants `permission`; others get 403 (never another tenant's data)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not actor_can(request.actor, permission):  # type: ignore[attr-defined]
                raise PermissionDenied(permission)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
