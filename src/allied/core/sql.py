"""Lean SQL for hot paths: multi-row INSERT and relative UPDATE without building model instances.

Values go through each field's own `get_db_prep_save`, so JSON, decimals and times are stored
exactly as the ORM stores them; the SQL text depends only on the row count, so the database can
reuse its plans. Use it where a measured path needs it (order intake), not by default.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection, models


def _quoted_column(model: type[models.Model], name: str) -> str:
    return connection.ops.quote_name(str(model._meta.get_field(name).column))  # type: ignore[union-attr]


def _quoted_pk(model: type[models.Model]) -> str:
    return connection.ops.quote_name(str(model._meta.pk.column))  # type: ignore[union-attr]


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
    names = list(rows[0])
    fields = [model._meta.get_field(name) for name in names]
    columns = ", ".join(_quoted_column(model, name) for name in names)
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # Table and column names come from the model and are quoted; values are parameters.
    sql = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) VALUES "  # noqa: S608
    sql += ", ".join([placeholders] * len(rows))
    if skip_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning_id:
        sql += f" RETURNING {_quoted_pk(model)}"
    params = [
        field.get_db_prep_save(row[name], connection)  # type: ignore[union-attr]
        for row in rows
        for name, field in zip(names, fields, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()] if returning_id else []


def add_to_columns(model: type[models.Model], increments: Mapping[int, Mapping[str, int]]) -> None:
    """`col = col + n` for several rows in one statement: {row id: {column: n}}. Callers hold
    the rows' locks; every row must name the same columns."""
    if not increments:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = list(next(iter(increments.values())))
    columns = [_quoted_column(model, name) for name in names]
    selects = " UNION ALL ".join(
        ["SELECT %s AS row_id, " + ", ".join(f"%s AS d{i}" for i in range(len(names)))] * len(increments)
    )
    assignments = ", ".join(f"{column} = {column} + delta.d{i}" for i, column in enumerate(columns))
    pk = _quoted_pk(model)
    sql = f"UPDATE {table} SET {assignments} FROM ({selects}) AS delta WHERE {table}.{pk} = delta.row_id"  # noqa: S608
    params = [value for row_id, deltas in increments.items() for value in (row_id, *(deltas[n] for n in names))]
    with connection.cursor() as cursor:
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
    return " FOR UPDATE" if connection.features.has_select_for_update else ""
