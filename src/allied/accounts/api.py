from django.http import HttpRequest
from ninja import Router

from allied.accounts.schemas import MeSchema
from allied.core.schemas import PROBLEM_STATUSES, ProblemSchema

router = Router(tags=["Account"])


@router.get(
    "/me", response={200: MeSchema, PROBLEM_STATUSES: ProblemSchema}, summary="Who is calling", operation_id="me"
)
def me(request: HttpRequest) -> dict:
    """The organization and scopes of the API key making the call. Useful to check a key works."""
    actor = request.auth  # type: ignore[attr-defined]
    return {"organization": actor.organization, "api_key_prefix": actor.api_key.prefix, "scopes": actor.api_key.scopes}
