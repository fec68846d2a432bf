import re
import threading
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

from allied.core.context import RequestContext, enter_request, leave_request, truncate_ip
from allied.core.errors import NotFound, PermissionDenied
from allied.core.handlers import page_not_found, permission_denied
from allied.core.problems import api_problem_for_bare_answer, problem_response, simple_problem

REQUEST_ID_HEADER = "X-Request-ID"
API_PREFIX = "/api/"
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContextMiddleware:
    """Give every request an id (a sane incoming X-Request-ID is kept) and its truncated network."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _ACCEPTABLE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = enter_request(
            RequestContext(request_id=request_id, ip_prefix=truncate_ip(request.META.get("REMOTE_ADDR")))
        )
        try:
            response = self.get_response(request)
        finally:
            leave_request(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class ApiRequestGuardMiddleware:
    """Before the API parses anything: refuse bodies that are not JSON or are too large."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX) and request.method in {"POST", "PUT", "PATCH"}:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
            if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                return problem_response(
                    request,
                    simple_problem(
                        413,
                        "Request too large",
                        f"The body is {length} bytes; the limit is {settings.DATA_UPLOAD_MAX_MEMORY_SIZE}.",
                        "request_too_large",
                    ),
                )
            content_type = request.content_type or ""
            if length and content_type != "application/json":
                return problem_response(
                    request,
                    simple_problem(
                        415,
                        "Unsupported media type",
                        f"Send JSON with 'Content-Type: application/json' (got {content_type or 'none'!r}).",
                        "unsupported_media_type",
                    ),
                )
        return self.get_response(request)


class DomainErrorPageMiddleware:
    """On pages, a domain NotFound is a 404 page and PermissionDenied a 403 page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotFound):
            return page_not_found(request, exception)
        if isinstance(exception, PermissionDenied):
            return permission_denied(request, exception)
        return None


class ApiShortcutMiddleware:
    """API requests go from here straight to the view, past the middleware only pages use
    (static files, sessions, language, sign-in, messages, MFA, htmx). The REST API
    authenticates by key, keeps no session and answers JSON; skipping them is a good part of the
    cost of an API call (docs/benchmarks.md). Pair it with ApiShortcutExitMiddleware, last."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # Django builds the chain from the last middleware to the first, in one thread: the exit
        # of this chain was built a moment ago.
        to_view = _chain_being_built.__dict__.pop("to_view", None)
        if to_view is None:
            raise ImproperlyConfigured("ApiShortcutExitMiddleware must be the last entry of MIDDLEWARE.")
        self.to_view: Callable[[HttpRequest], HttpResponse] = to_view

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX):
            return api_problem_for_bare_answer(request, self.to_view(request))
        return self.get_response(request)


class ApiShortcutExitMiddleware:
    """The last middleware: its next step, the view, is where ApiShortcutMiddleware sends API calls."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        _chain_being_built.to_view = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)


_chain_being_built = threading.local()
