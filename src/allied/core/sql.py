"""Lean SQL for the measured hot paths (order intake, public tracking: docs/benchmarks.md), not for everyday code.

On PostgreSQL every statement here is prepared once per connection (server-side binding) and
has one text whatever the number of rows (rows as one JSON document, lists as arrays), so it is
planned once; several writes go to the server as one statement (`run_together`). On SQLite,
where a statement costs no round trip, they run one by one and `sqlite3` caches them by text.
Values are adapted as the ORM adapts them, so the rows are the ones `Model.save()` would write.
"""

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple
from uuid import UUID

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

# Types whose Python values the database driver does not take as they are, by backend.
_ADAPTED_TYPES = {
    "postgresql": {"JSONField"},  # for the constants; rows travel as JSON (_json_value)
    "sqlite": {"JSONField", "DateTimeField", "DateField", "TimeField", "DecimalField", "UUIDField"},
}


def _json_value(value: Any) -> str:
    """Decimals, times and UUIDs as text that PostgreSQL reads back exactly."""
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be written by lean SQL")


class Statement(NamedTuple):
    sql: str
    params: list[Any]


def _connection() -> BaseDatabaseWrapper:
    # One lookup per call: every access to `django.db.connection` goes through a thread-local proxy.
    return connections[DEFAULT_DB_ALIAS]


def _is_postgresql(db: BaseDatabaseWrapper) -> bool:
    return db.vendor == "postgresql"


def is_postgresql() -> bool:
    return _is_postgresql(_connection())


@cache
def _prepared_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor  # imports psycopg

    class PreparedCursor(ServerBindingCursor):  # type: ignore[misc, valid-type]
        """Server-side binding, prepared on first use (Django's own cursors bind on the client)."""

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            return super().execute(query, params, prepare=True, **kwargs)  # type: ignore[misc]

    return PreparedCursor


def cursor() -> CursorWrapper:
    """A cursor for lean statements, wrapped like Django's (error mapping, query capture)."""
    db = _connection()
    if not _is_postgresql(db):
        return db.cursor()
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        return db._prepare_cursor(_prepared_cursor_class()(db.connection))  # type: ignore[attr-defined, no-any-return]


def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with cursor() as c:
        c.execute(sql, params)
        return c.fetchall()


def _run(statement: Statement) -> list[tuple[Any, ...]]:
    with cursor() as c:
        c.execute(statement.sql, statement.params)
        return c.fetchall() if c.description else []


def run_together(statements: Iterable[Statement]) -> None:
    """Several writes that do not read each other's rows: on PostgreSQL one round trip (one
    statement of data-modifying WITH clauses, all run to completion), elsewhere one by one.
    On PostgreSQL a statement may read the rows the one before it RETURNs as `{previous}`."""
    statements = list(statements)
    if not statements:
        return
    if not _is_postgresql(_connection()):
        with cursor() as c:
            for statement in statements:
                c.execute(statement.sql, statement.params)
        return
    statements = [
        Statement(statement.sql.replace("{previous}", f"w{index - 1}"), statement.params) if index else statement
        for index, statement in enumerate(statements)
    ]
    *leading, last = statements
    clauses = ", ".join(f"w{index} AS ({statement.sql})" for index, statement in enumerate(leading))
    sql = f"WITH {clauses} {last.sql}" if leading else last.sql
    _run(Statement(sql, [value for statement in statements for value in statement.params]))


def any_of(column: str, values: Sequence[Any], db_type: str) -> Statement:
    """`column` equal to any of `values`, as a condition of one text on PostgreSQL."""
    if _is_postgresql(_connection()):
        return Statement(f"{column} = ANY(%s::{db_type}[])", [list(values)])
    return Statement(f"{column} IN ({', '.join(['%s'] * len(values))})", list(values))


def next_id(model: type[models.Model]) -> str:
    """An expression for the id the next row of `model` gets, so a transaction can write the row
    and the rows that point to it in one statement. On SQLite the caller must hold the write lock
    (Allied's transactions begin IMMEDIATE); ids are never reused, as with AUTOINCREMENT."""
    table = model._meta.db_table
    if _is_postgresql(_connection()):
        return f"nextval(pg_get_serial_sequence('{table}', '{model._meta.pk.column}'))"  # type: ignore[union-attr]
    return f"(SELECT coalesce(max(seq), 0) + 1 FROM sqlite_sequence WHERE name = '{table}')"  # noqa: S608


def lock_clause() -> str:
    """`FOR UPDATE` where the database has row locks (SQLite locks the whole file for writes)."""
    return " FOR UPDATE" if _connection().features.has_select_for_update else ""


@dataclass(frozen=True)
class _Column:
    name: str
    db_type: str
    adapt: Callable[[Any, BaseDatabaseWrapper], Any] | None  # the field's get_db_prep_save


@dataclass(frozen=True)
class _Layout:
    given: tuple[_Column, ...]
    defaulted: tuple[_Column, ...]
    defaults: tuple[Any, ...]  # adapted once


@cache
def _layout(vendor: str, model: type[models.Model], names: tuple[str, ...]) -> _Layout:
    db = _connection()

    def column(field: models.Field) -> _Column:
        adapt = None
        if field.get_internal_type() in _ADAPTED_TYPES.get(vendor, set()):
            adapt = field.get_db_prep_save
        return _Column(db.ops.quote_name(str(field.column)), str(field.cast_db_type(db)), adapt)

    fields = {field.attname: field for field in model._meta.concrete_fields}
    left_out = [field for attname, field in fields.items() if attname not in names and not field.primary_key]
    defaults = [field.get_default() for field in left_out]  # what Model() would hold
    for field, default in zip(left_out, defaults, strict=True):
        if default is None and not field.null:
            raise ValueError(f"{model.__name__}.{field.attname} has no default: give it a value.")
    defaulted = tuple(column(field) for field in left_out)
    adapted = tuple(
        default if col.adapt is None else col.adapt(default, db)
        for col, default in zip(defaulted, defaults, strict=True)
    )
    return _Layout(tuple(column(fields[name]) for name in names), defaulted, adapted)


@dataclass(frozen=True)
class Insert:
    """An INSERT of many rows into `model`'s table, the rows given as tuples in the order of
    `names` (attribute names: `organization_id`); the columns left out take their field's default."""

    model: type[models.Model]
    names: tuple[str, ...]

    def of(self, rows: Sequence[Sequence[Any]]) -> Statement:
        db = _connection()
        layout = _layout(db.vendor, self.model, self.names)
        table = db.ops.quote_name(self.model._meta.db_table)
        columns = ", ".join(column.name for column in (*layout.given, *layout.defaulted))
        if _is_postgresql(db):
            # The rows travel as one JSON document: one parameter the driver passes as it is,
            # where arrays of every column cost it a list dump each.
            given = ", ".join(
                f"r -> {index}" if column.db_type == "jsonb" else f"(r ->> {index})::{column.db_type}"
                for index, column in enumerate(layout.given)
            )
            constants = "".join(f", %s::{column.db_type}" for column in layout.defaulted)
            sql = f"INSERT INTO {table} ({columns}) SELECT {given}{constants} FROM jsonb_array_elements(%s::jsonb) r"  # noqa: S608
            params = [*layout.defaults, json.dumps(rows, default=_json_value)]
        else:
            adapted = [
                [
                    value if col.adapt is None else col.adapt(value, db)
                    for col, value in zip(layout.given, row, strict=True)
                ]
                for row in rows
            ]
            row = "(" + ", ".join(["%s"] * (len(layout.given) + len(layout.defaulted))) + ")"
            sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(rows))}"  # noqa: S608
            params = [value for values in adapted for value in (*values, *layout.defaults)]
        return Statement(sql, params)


@dataclass(frozen=True)
class AddTo:
    """`column = column + n` on rows chosen by id, for rows the caller holds locked."""

    model: type[models.Model]
    names: tuple[str, ...]

    def of(self, increments: Sequence[tuple[int, Sequence[int]]]) -> Statement:
        """`increments`: (row id, (n for each of `names`)) pairs."""
        db = _connection()
        quote = db.ops.quote_name
        table = quote(self.model._meta.db_table)
        columns = [quote(str(self.model._meta.get_field(name).column)) for name in self.names]  # type: ignore[union-attr]
        assignments = ", ".join(f"{column} = {column} + delta.d{index}" for index, column in enumerate(columns))
        pk = quote(str(self.model._meta.pk.column))  # type: ignore[union-attr]
        deltas = ", ".join(f"d{index}" for index in range(len(columns)))
        if _is_postgresql(db):
            arrays = ", ".join(["%s::bigint[]"] + ["%s::integer[]"] * len(columns))
            source = f"unnest({arrays}) AS delta(row_id, {deltas})"
            params: list[Any] = [
                list(values) for values in zip(*[(row_id, *ns) for row_id, ns in increments], strict=True)
            ]
        else:
            select = "SELECT %s AS row_id, " + ", ".join(f"%s AS d{index}" for index in range(len(columns)))
            source = f"({' UNION ALL '.join([select] * len(increments))}) AS delta"
            params = [value for row_id, ns in increments for value in (row_id, *ns)]
        return Statement(f"UPDATE {table} SET {assignments} FROM {source} WHERE {table}.{pk} = delta.row_id", params)  # noqa: S608


@cache
def _converters(vendor: str, model: type[models.Model], names: tuple[str, ...]) -> tuple[tuple[Any, list[Any]], ...]:
    db = _connection()
    columns = []
    for name in names:
        column = model._meta.get_field(name).get_col(model._meta.db_table)  # type: ignore[union-attr]
        columns.append((column, db.ops.get_db_converters(column) + column.get_db_converters(db)))
    return tuple(columns)


def instance[Model: models.Model](model: type[Model], names: tuple[str, ...], row: Sequence[Any]) -> Model:
    """A model instance from a row of lean `fetch`, its values converted as the ORM converts them
    (JSON, and times stored as text on SQLite); `names` in the model's field order."""
    db = _connection()
    values = list(row)
    for index, (column, converters) in enumerate(_converters(db.vendor, model, names)):
        for converter in converters:
            values[index] = converter(values[index], column, db)
    return model.from_db(db.alias, names, values)
