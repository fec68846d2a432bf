"""RFC 9457 problem details for HTTP: the one translation of errors for the REST API."""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema

from allied.core.errors import DomainError, FieldError, Problem

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
_LOCATION_WORDS = {"body", "query", "path", "header", "cookie", "form", "payload"}


def problem_response(request: HttpRequest, problem: Problem, *, headers: dict[str, str] | None = None) -> JsonResponse:
    body = problem.as_dict(instance=request.path, request_id=getattr(request, "request_id", ""))
    response = JsonResponse(body, status=problem.status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def simple_problem(status: int, title: str, detail: str, code: str, **extra: Any) -> Problem:
    return Problem(status=status, title=title, detail=detail, code=code, extra=extra)


def field_name(location: list[Any] | tuple[Any, ...]) -> str:
    """`["body", "payload", "lines", 0, "quantity"]` -> `lines[0].quantity`."""
    parts = [p for p in location if not (isinstance(p, str) and p in _LOCATION_WORDS)]
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def validation_problem(errors: list[dict[str, Any]]) -> Problem:
    field_errors = [
        FieldError(
            field_name(error.get("loc", ())), str(error.get("msg", "Invalid value")), str(error.get("type", "invalid"))
        )
        for error in errors
    ]
    detail = "; ".join(f"{e.field}: {e.message}" for e in field_errors) or "The request is not valid."
    return Problem(
        status=422, title="Some fields are not valid", detail=detail, code="validation_failed", errors=field_errors
    )


class ProblemNinjaAPI(NinjaAPI):
    """A NinjaAPI whose OpenAPI schema says what is sent: every error answer is
    `application/problem+json`, not the `application/json` ninja declares for every response."""

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPISchema:
        schema = super().get_openapi_schema(**kwargs)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        content[PROBLEM_CONTENT_TYPE] = content.pop("application/json")
        return schema


_BARE_API_ANSWERS = {
    404: ("Not found", "No such resource.", "not_found"),
    405: ("Method not allowed", "This resource does not answer to {method}.", "method_not_allowed"),
}


def api_problem_for_bare_answer(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Under /api/, the answers Django or ninja make themselves (an unknown path, a method the
    resource does not have) become problems too; the `Allow` header of a 405 is kept."""
    if response.status_code not in _BARE_API_ANSWERS or response.get("Content-Type") == PROBLEM_CONTENT_TYPE:
        return response
    title, detail, code = _BARE_API_ANSWERS[response.status_code]
    problem = simple_problem(response.status_code, title, detail.format(method=request.method), code)
    headers = {"Allow": response["Allow"]} if response.has_header("Allow") else None
    return problem_response(request, problem, headers=headers)


def install_problem_handlers(api: NinjaAPI) -> None:
    def on_validation_error(request: HttpRequest, exc: Any) -> HttpResponse:
        return problem_response(request, validation_problem(exc.errors))

    def on_authentication_error(request: HttpRequest, exc: Any) -> HttpResponse:
        return problem_response(
            request,
            simple_problem(
                401,
                "Authentication required",
                "Send a valid, unrevoked API key as 'Authorization: Bearer <key>'.",
                "not_authenticated",
            ),
            headers={"WWW-Authenticate": 'Bearer realm="allied"'},
        )

    def on_http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
            return problem_response(
                request, simple_problem(400, "Malformed JSON", "The request body is not valid JSON.", "malformed_json")
            )
        return problem_response(request, simple_problem(exc.status_code, str(exc), str(exc), "http_error"))

    def on_domain_error(request: HttpRequest, exc: Any) -> HttpResponse:
        return problem_response(request, Problem.from_error(exc))

    def on_not_found(request: HttpRequest, exc: Any) -> HttpResponse:
        return problem_response(request, simple_problem(404, "Not found", "No such resource.", "not_found"))

    def on_forbidden(request: HttpRequest, exc: Any) -> HttpResponse:
        return problem_response(
            request, simple_problem(403, "Not allowed", str(exc) or "Not allowed.", "permission_denied")
        )

    def on_too_big(request: HttpRequest, exc: Any) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return problem_response(
            request, simple_problem(413, "Request too large", f"The body exceeds {limit} bytes.", "request_too_large")
        )

    def on_unexpected(request: HttpRequest, exc: Any) -> HttpResponse:
        logger.exception("unhandled API error")
        return problem_response(
            request,
            simple_problem(
                500, "Internal error", "Something went wrong on our side; it has been logged.", "internal_error"
            ),
        )

    api.add_exception_handler(ValidationError, on_validation_error)
    api.add_exception_handler(AuthenticationError, on_authentication_error)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(DomainError, on_domain_error)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(DjangoPermissionDenied, on_forbidden)
    api.add_exception_handler(RequestDataTooBig, on_too_big)
    api.add_exception_handler(Exception, on_unexpected)
