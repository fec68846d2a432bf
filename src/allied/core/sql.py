"""Lean SQL for hot paths: multi-row INSERT and relative UPDATE without building model instances.

Values go through each field's own `get_db_prep_save`, so JSON, decimals and times are stored
exactly as the ORM stores them; the SQL text depends only on the row count, so the database can
reuse its plans. Use it where a measured path needs it (order intake), not by default.
"""

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper


def _connection() -> BaseDatabaseWrapper:
    # One lookup per call: every access to `django.db.connection` goes through a thread-local proxy.
    return connections[DEFAULT_DB_ALIAS]


@cache
def _insert_prefix(vendor: str, model: type[models.Model], names: tuple[str, ...]) -> tuple[str, tuple[Any, ...]]:
    db = _connection()
    fields = tuple(model._meta.get_field(name) for name in names)
    columns = ", ".join(db.ops.quote_name(str(field.column)) for field in fields)  # type: ignore[union-attr]
    # Table and column names come from the model and are quoted; values are parameters.
    return f"INSERT INTO {db.ops.quote_name(model._meta.db_table)} ({columns}) VALUES ", fields  # noqa: S608


def insert_rows(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    returning_id: bool = False,
    skip_conflicts: bool = False,
) -> list[int]:
    """INSERT all rows in one statement. With `skip_conflicts`, rows that break a unique
    constraint are left out (ON CONFLICT DO NOTHING); with `returning_id`, the new ids come back."""
    if not rows:
        return []
    db = _connection()
    names = tuple(rows[0])
    prefix, fields = _insert_prefix(db.vendor, model, names)
    placeholders_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = prefix + ", ".join([placeholders_row] * len(rows))
    if skip_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning_id:
        sql += f" RETURNING {db.ops.quote_name(str(model._meta.pk.column))}"  # type: ignore[union-attr]
    params = [field.get_db_prep_save(row[name], db) for row in rows for name, field in zip(names, fields, strict=True)]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()] if returning_id else []


def add_to_columns(model: type[models.Model], increments: Mapping[int, Mapping[str, int]]) -> None:
    """`col = col + n` for several rows in one statement: {row id: {column: n}}. Callers hold
    the rows' locks; every row must name the same columns."""
    if not increments:
        return
    db = _connection()
    quote = db.ops.quote_name
    table = quote(model._meta.db_table)
    names = list(next(iter(increments.values())))
    columns = [quote(str(model._meta.get_field(name).column)) for name in names]  # type: ignore[union-attr]
    selects = " UNION ALL ".join(
        ["SELECT %s AS row_id, " + ", ".join(f"%s AS d{i}" for i in range(len(names)))] * len(increments)
    )
    assignments = ", ".join(f"{column} = {column} + delta.d{i}" for i, column in enumerate(columns))
    pk = quote(str(model._meta.pk.column))  # type: ignore[union-attr]
    sql = f"UPDATE {table} SET {assignments} FROM ({selects}) AS delta WHERE {table}.{pk} = delta.row_id"  # noqa: S608
    params = [value for row_id, deltas in increments.items() for value in (row_id, *(deltas[n] for n in names))]
    with db.cursor() as cursor:
        cursor.execute(sql, params)


def model_row(instance: models.Model) -> dict[str, Any]:
    """An unsaved instance's column values by attribute name, for `insert_rows`."""
    return {
        field.attname: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
        if not field.primary_key
    }


def placeholders(values: Sequence[Any]) -> str:
    """`%s, %s, %s` for an IN list of these values."""
    return ", ".join(["%s"] * len(values))


def lock_clause() -> str:
    """`FOR UPDATE` where the database has row locks (SQLite locks the whole file for writes)."""
    return " FOR UPDATE" if _connection().features.has_select_for_update else ""
