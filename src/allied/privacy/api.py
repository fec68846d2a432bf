"""The records of processing for AES's own tools: the data map as data, for a privacy officer's
audit or a regulator's request (an AES key with `privacy:manage`, decision 0008)."""

from django.http import HttpRequest
from ninja import Router, Schema

from allied.accounts.policy import PRIVACY_MANAGE, Actor, require
from allied.core.errors import PermissionDenied
from allied.core.schemas import PROBLEM_STATUSES, ProblemSchema
from allied.privacy.notice_text import data_map_record
from allied.privacy.selectors import data_map_coverage, data_map_entries

router = Router(tags=["Privacy"])


class DataMapEntryOut(Schema):
    app: str
    model: str
    field: str
    category: str
    category_words: str
    purpose: str
    legal_basis: str
    retention: str
    shared_with: list[str]


class DataMapCoverageOut(Schema):
    declared: int
    undeclared: list[str]
    percent: int


class DataMapOut(Schema):
    coverage: DataMapCoverageOut
    entries: list[DataMapEntryOut]


def _require_privacy_officer(actor: Actor) -> None:
    require(actor, PRIVACY_MANAGE)
    if not actor.is_operator:
        raise PermissionDenied("Only AES may read the records of processing.")


@router.get(
    "/privacy/data-map",
    response={200: DataMapOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="privacy_data_map",
    summary="The records of processing",
)
def privacy_data_map(request: HttpRequest) -> dict:
    """Every field of Allied that holds personal data: its app, model and field, its data category
    (a fideslang key, and in words), the purpose, the legal basis, the retention rule and the
    service-provider categories it may go to; and how many personal-looking fields are declared
    (`coverage`). Needs an AES key with `privacy:manage`."""
    _require_privacy_officer(request.auth)  # type: ignore[attr-defined]
    coverage = data_map_coverage()
    return {
        "coverage": {"declared": coverage.declared, "undeclared": coverage.undeclared, "percent": coverage.percent},
        "entries": [data_map_record(entry) for entry in data_map_entries()],
    }
