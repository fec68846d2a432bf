from ninja import Field, Schema


class FieldErrorSchema(Schema):
    field: str = Field(examples=["lines[0].quantity"])
    message: str = Field(examples=["Input should be greater than 0"])
    code: str = Field(examples=["greater_than"])


class ProblemSchema(Schema):
    """RFC 9457 problem details, sent as `application/problem+json` for every error."""

    type: str = Field(examples=["https://allied.example/problems/validation-failed"])
    title: str = Field(examples=["Some fields are not valid"])
    status: int = Field(examples=[422])
    detail: str
    code: str = Field(description="Stable, machine-readable error code.", examples=["validation_failed"])
    instance: str | None = None
    request_id: str | None = Field(default=None, description="Quote it when asking AES support.")
    errors: list[FieldErrorSchema] | None = None


# The problems any authenticated JSON endpoint may answer with, for the OpenAPI schema.
PROBLEM_STATUSES = frozenset({400, 401, 403, 404, 409, 413, 415, 422, 429})
