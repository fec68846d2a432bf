"""One error model for the whole domain; each transport (API, form, CLI) translates it once."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    code: str = "invalid"


class DomainError(Exception):
    """A business rule said no. `code` is stable for clients; `status` is the HTTP answer."""

    code = "domain_error"
    status = 400
    title = "The request could not be carried out"

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra


class ValidationFailed(DomainError):
    code = "validation_failed"
    status = 422
    title = "Some fields are not valid"


class NotFound(DomainError):
    code = "not_found"
    status = 404
    title = "Not found"


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    title = "Not allowed"


class Conflict(DomainError):
    code = "conflict"
    status = 409
    title = "Conflict with the current state"


class IllegalTransition(Conflict):
    code = "illegal_transition"
    title = "That change of state is not allowed"


# What a page shows as a message beside its form: the input, the state or a scanned code is
# wrong, and the person can fix it. A refusal (PermissionDenied) is never one: it propagates
# and is a 403 page (core.middleware.DomainErrorPageMiddleware).
FORM_ERRORS = (ValidationFailed, Conflict, NotFound)


@dataclass(frozen=True)
class Problem:
    """RFC 9457 problem details, independent of any web framework."""

    status: int
    title: str
    detail: str
    code: str
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self, *, instance: str = "", request_id: str = "") -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://allied.example/problems/{self.code.replace('_', '-')}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if instance:
            body["instance"] = instance
        if request_id:
            body["request_id"] = request_id
        if self.errors:
            body["errors"] = [{"field": e.field, "message": e.message, "code": e.code} for e in self.errors]
        body.update(self.extra)
        return body

    @classmethod
    def from_error(cls, error: DomainError) -> "Problem":
        return cls(
            status=error.status,
            title=error.title,
            detail=error.detail,
            code=error.code,
            errors=error.errors,
            extra=error.extra,
        )
