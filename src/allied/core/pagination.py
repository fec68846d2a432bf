"""Cursor pagination by primary key: stable under inserts, cheap at any depth."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from allied.core.errors import FieldError, ValidationFailed

MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    """The id the next page starts after: a plain number, so the schema can say what a cursor is."""
    return str(last_id)


def decode_cursor(cursor: str) -> int:
    if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 18):
        raise ValidationFailed(
            "The cursor is not valid.", errors=[FieldError("cursor", "Use a next_cursor value from a previous page.")]
        )
    return int(cursor)


def paginate_by_id(queryset: QuerySet, *, cursor: str | None, limit: int) -> Page:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationFailed("Bad page size.", errors=[FieldError("limit", f"Between 1 and {MAX_PAGE_SIZE}.")])
    queryset = queryset.order_by("pk")
    if cursor:
        queryset = queryset.filter(pk__gt=decode_cursor(cursor))
    items = list(queryset[: limit + 1])
    has_more = len(items) > limit
    items = items[:limit]
    return Page(items=items, next_cursor=encode_cursor(items[-1].pk) if has_more and items else None)
