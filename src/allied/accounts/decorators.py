from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from allied.accounts.policy import actor_can


def permission_required(permission: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A signed-in member whose role grants `permission`.

    Others get 403 on a page, and 404 on an object's page: whether an object exists is not
    something to tell people who may not see it.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not actor_can(request.actor, permission):  # type: ignore[attr-defined]
                if kwargs:
                    raise Http404
                raise PermissionDenied(permission)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
