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


def test_every_error_answer_is_declared_as_problem_json_as_it_is_sent(client) -> None:
    schema = client.get("/api/v1/openapi.json").json()

    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], f"{method} {path} {status}"
    sent = client.get("/api/v1/orders")  # no key: a 401, as declared
    assert (sent.status_code, sent["Content-Type"]) == (401, "application/problem+json")
