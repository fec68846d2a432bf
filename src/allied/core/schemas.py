"""What every API schema shares: the input sanitiser, the date-time and money types, the problem.

Every input schema of every app derives from `Input` (request bodies; `QueryInput` for query
parameters), so text is checked in one place: no NUL character reaches the database (PostgreSQL
refuses it). A JSON body is held to its schema's types (`strict`: "2" is not an integer, "yes" not a
boolean); the CSV and form doors, whose cells are all text, validate the same schemas with
`strict=False`. Money is `Money`: a JSON number or a decimal string, both bounded as the schema says.
Dates and times are `DateTime`/`Date`: ISO 8601 text only (a bare number is not a date), with an
offset PostgreSQL can store, and kept in UTC so an answer renders them the same way whether it
was built from the request or read back from the database.
"""

import hashlib
import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

NUL = "\x00"
# PostgreSQL stores offsets up to 15:59 either side of UTC; the real world uses -12:00 to +14:00.
MAX_OFFSET = timedelta(hours=15, minutes=59)
_ISO_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# What the schema says of a date-time beyond RFC 3339: an offset, within ±15:59, and no leap second.
DATE_TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:[0-5]\d(\.\d+)?)?([Zz]|[+-](0\d|1[0-5]):?[0-5]\d)$"
_CENTS = Decimal("0.01")
_DECIMAL_TEXT = re.compile(r"\d{1,20}(\.\d{1,20})?")  # never negative: no amount is


def _nul_error() -> PydanticCustomError:
    return PydanticCustomError("nul_character", "Must not contain the NUL character (\\x00).")


def refuse_nul(value: Any) -> Any:
    """The text sanitiser: strings, and lists of strings, must not hold a NUL character."""
    if isinstance(value, str):
        if NUL in value:
            raise _nul_error()
    elif isinstance(value, list | tuple) and any(isinstance(item, str) and NUL in item for item in value):
        raise _nul_error()
    return value


# What the schema says of free text: no NUL character (JSON Schema patterns are ECMA-262 regexes).
NO_NUL_PATTERN = "^[^\\u0000]*$"
_NOT_BLANK = r"\S"
# Required text: something that is not white space (as Python strips it) and no NUL.
NOT_BLANK_PATTERN = "^[^\\u0000]*[^\\s\\u0000\\u001c-\\u001f\\u0085][^\\u0000]*$"


def _declare_no_nul(schema: Any) -> None:
    """Say in the JSON schema what the sanitiser refuses: every free-text string of a model (its
    fields, list items and alternatives; nested models are declared by their own class)."""
    if isinstance(schema, dict):
        if schema.get("type") == "string" and "format" not in schema and "enum" not in schema:
            pattern = schema.get("pattern")
            if pattern is None:
                schema["pattern"] = NO_NUL_PATTERN
            elif pattern == _NOT_BLANK:
                schema["pattern"] = NOT_BLANK_PATTERN
        for key, value in schema.items():
            if key != "$defs":
                _declare_no_nul(value)
    elif isinstance(schema, list):
        for item in schema:
            _declare_no_nul(item)


def _input_json_schema(schema: dict[str, Any], model: type) -> None:
    _declare_no_nul(schema.get("properties", {}))


class Input(BaseModel):
    """The base of every input schema: unknown fields are refused, types are the schema's (strict),
    and every field's raw value passes the text sanitiser first. Plain pydantic: ninja's Schema adds
    a per-object hook for reading models, which input does not need and the order intake would pay
    for on every nested object."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_input_json_schema)

    @field_validator("*", mode="before")
    @classmethod
    def _sanitised(cls, value: Any) -> Any:
        # JSON has one number type: 3.0 is the integer 3, as JSON Schema says (strict would refuse it).
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return refuse_nul(value)


class QueryInput(Input):
    """Query parameters: the same sanitiser, but every value arrives as text, so "50" is a number."""

    model_config = ConfigDict(extra="forbid", strict=False, json_schema_extra=_input_json_schema)


# The page size of a list, and where the next page starts (a list's `next_cursor`).
Limit = Annotated[int, Field(ge=1, le=200)]
Cursor = Annotated[str, Field(pattern=r"^[0-9]{1,18}$", description="`next_cursor` of the previous page.")]

# A text parameter outside an Input (a header): the same sanitiser.
SafeText = Annotated[str, AfterValidator(refuse_nul), Field(json_schema_extra={"pattern": NO_NUL_PATTERN})]


def _date_time_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE_TIME.match(value):
        try:
            return datetime.fromisoformat(value.upper())  # RFC 3339 allows a lower-case t and z
        except ValueError:
            pass
    raise PydanticCustomError(
        "datetime_format", "Use an ISO 8601 date and time with an offset, such as 2026-01-31T14:00:00+05:00."
    )


def _in_utc(value: datetime) -> datetime:
    offset = value.utcoffset()
    if offset is None:  # AwareDatetime refuses these first; kept for direct calls
        raise PydanticCustomError("timezone_aware", "Include a time-zone offset, such as Z or +05:00.")
    if abs(offset) > MAX_OFFSET:
        raise PydanticCustomError("datetime_offset", "Use a time-zone offset between -15:59 and +15:59.")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError("datetime_range", "The date is out of range.") from None


def _date_text(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError("date_format", "Use an ISO 8601 date, such as 2026-01-31.")


def _decimal(places: int, *, strings: bool) -> Any:
    """A JSON number, or (when `strings`) a decimal written as text, as a Decimal; a float that is
    meant as a decimal of `places` (0.57 arrives as 0.5700000000000001) is read as that decimal."""

    def read(value: Any) -> Any:
        if isinstance(value, Decimal | bool):
            return value  # a bool stays what it is and is refused as one
        if isinstance(value, int):
            return Decimal(value)
        if isinstance(value, float):
            if value == 0:
                return Decimal(0)  # not -0.0
            rounded = round(value, places)
            near = rounded != 0 and abs(value - rounded) <= abs(value) * 1e-12
            return Decimal(str(rounded if near else value))
        if strings and isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value):
            return Decimal(value)  # the bounds and the places are checked next, with their own messages
        raise PydanticCustomError(
            "decimal_format",
            f"Use a number with at most {places} decimal places"
            + (', or the same as text ("1500.00").' if strings else "."),
        )

    return read


_MONEY_MAX = Decimal("9999999999.99")
# An amount of money sent to the API: 0 to 9,999,999,999.99 with at most two decimal places, as a
# JSON number or as text ("1500.00"); the schema says exactly that.
Money = Annotated[
    Decimal,
    BeforeValidator(_decimal(2, strings=True)),
    Field(ge=0, le=_MONEY_MAX, decimal_places=2),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": float(_MONEY_MAX), "multipleOf": 0.01},
                {"type": "string", "pattern": r"^\d{1,10}(\.\d{1,2})?$"},
            ]
        }
    ),
]
Latitude = Annotated[
    Decimal,
    BeforeValidator(_decimal(6, strings=False)),
    Field(ge=-90, le=90, decimal_places=6),
    WithJsonSchema({"type": "number", "minimum": -90, "maximum": 90, "multipleOf": 0.000001}),
]
Longitude = Annotated[
    Decimal,
    BeforeValidator(_decimal(6, strings=False)),
    Field(ge=-180, le=180, decimal_places=6),
    WithJsonSchema({"type": "number", "minimum": -180, "maximum": 180, "multipleOf": 0.000001}),
]


# A date and time sent to the API: ISO 8601 text with an offset within PostgreSQL's range, kept in UTC.
DateTime = Annotated[
    AwareDatetime,
    BeforeValidator(_date_time_text),
    AfterValidator(_in_utc),
    Field(json_schema_extra={"pattern": DATE_TIME_PATTERN}),
]
# A calendar date sent to the API: ISO 8601 text (YYYY-MM-DD), never a number.
Date = Annotated[date, BeforeValidator(_date_text)]


def _cents(value: Decimal) -> str:
    return str(value.quantize(_CENTS))


# A money amount in an answer: always two decimal places, whether the answer was built from the
# request ("59.7") or read back from the database ("59.70").
Amount = Annotated[Decimal, PlainSerializer(_cents, return_type=str)]


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


def fingerprint(payload: BaseModel) -> str:
    """What an `Idempotency-Key` remembers of a request: a hash of its parsed body in a canonical
    form, so the same JSON sent again with other whitespace or key order is the same request."""
    canonical = json.dumps(payload.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
