import json

from allied.api import api
from tests.processes import REPO


def test_committed_openapi_schema_matches_the_code() -> None:
    """docs/openapi.json is what integrators read; regenerate it with `make openapi` after an API change."""
    committed = json.loads((REPO / "docs" / "openapi.json").read_text())

    assert committed == json.loads(json.dumps(api.get_openapi_schema(), sort_keys=True, default=str))


def test_every_operation_documents_its_problems() -> None:
    for path, methods in api.get_openapi_schema()["paths"].items():
        for method, operation in methods.items():
            codes = {str(code) for code in operation["responses"]}
            assert {"400", "401", "403", "404"} <= codes, f"{method.upper()} {path} documents {sorted(codes)}"
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
            assert operation.get("description"), f"{method.upper()} {path} has no description"
