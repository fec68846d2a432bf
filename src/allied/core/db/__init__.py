"""What Allied needs to know of database errors, the same on PostgreSQL and SQLite."""

import re

from django.db import IntegrityError, models

_POSTGRES_KEY = re.compile(r"^Key \((?P<columns>[^)]*)\)=")
_SQLITE_UNIQUE = re.compile(r"^UNIQUE constraint failed: (?P<columns>.+)$")


def unique_violation(error: IntegrityError) -> tuple[str, frozenset[str]] | None:
    """The table and columns of the unique constraint `error` reports, or None for any other
    integrity error (a foreign key, a check, NOT NULL)."""
    cause = error.__cause__
    diag = getattr(cause, "diag", None)
    if diag is not None:  # psycopg
        if getattr(cause, "sqlstate", "") != "23505":
            return None
        found = _POSTGRES_KEY.match(diag.message_detail or "")
        if found is None or not diag.table_name:
            return None
        return diag.table_name, frozenset(column.strip() for column in found["columns"].split(","))
    found = _SQLITE_UNIQUE.match(str(error))
    if found is None:
        return None
    qualified = [column.strip() for column in found["columns"].split(",")]
    tables = {column.split(".", 1)[0] for column in qualified}
    if len(tables) != 1:
        return None
    return tables.pop(), frozenset(column.split(".", 1)[1] for column in qualified)


def unique_columns(model: type[models.Model], name: str) -> tuple[str, frozenset[str]]:
    """A unique constraint of `model` (by its name) or a unique field (by the field's name), as
    `unique_violation` reports it."""
    opts = model._meta
    for constraint in opts.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.name == name:
            fields = constraint.fields
            break
    else:
        if not opts.get_field(name).unique:  # type: ignore[union-attr]
            raise ValueError(f"{opts.label}.{name} is not unique")
        fields = (name,)
    return opts.db_table, frozenset(str(opts.get_field(field).column) for field in fields)  # type: ignore[union-attr]
