from typing import Any

from django.http import HttpRequest

from allied.accounts import policy


def membership(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    if actor is None or not request.user.is_authenticated:
        return {"actor": None}
    permissions = actor.permissions
    return {
        "actor": actor,
        "can": {name.replace(".", "_"): name in permissions for name in policy.ALL_PERMISSIONS},
    }
