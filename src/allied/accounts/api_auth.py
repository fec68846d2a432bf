from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from allied.accounts.policy import Actor
from allied.accounts.selectors import api_key_matching
from allied.accounts.services import api_key_record_use


class ApiKeyAuth(HttpBearer):
    """`Authorization: Bearer allied_<prefix>_<secret>`; the request then acts as the key's organization."""

    openapi_description = "A partner API key, created in the portal under API keys. Shown once at creation."

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_key = api_key_matching(token)
        if api_key is None:
            return None
        api_key_record_use(api_key=api_key)
        actor = Actor(organization=api_key.organization, api_key=api_key)
        request.actor = actor  # type: ignore[attr-defined]
        return actor
