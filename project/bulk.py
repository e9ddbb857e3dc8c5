"""One INSERT statement for any number of rows, without model instances.

``bulk_create`` builds a model instance per row, prepares every field of every row and, on
SQLite, splits the INSERT at the variable limit, so both its time and its statement count grow
with the rows (3,000 students: 20 → 22 statements, most of a configure's time in per-field
preparation). ``rows_insert`` sends the varying columns as one JSON array parameter and expands
it in SQL (SQLite ``json_each``, PostgreSQL ``jsonb_array_elements``): one statement whatever the
number of rows, values prepared once per column, not per row.

Varying values must already be in their database form (int, str, bool, None; a JSON column's
value as its JSON text). Constants (the same for every row) and the defaults of the model's
other fields are prepared by their fields once.

``rows_insert_select`` is the same INSERT for rows the database can compute from rows it has
(``INSERT ... SELECT``): nothing per row is built in Python or sent as a parameter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection, models


def _constants(
    model: type[models.Model], *, given: Sequence[str], constants: Mapping[str, Any] | None
) -> list[tuple[models.Field, Any]]:
    """Every concrete field of ``model`` but its primary key and ``given``, with its value in the
    database's form: ``constants[name]``, or the field's default as the ORM fills it."""
    constants = dict(constants or {})
    fixed: list[tuple[models.Field, Any]] = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.attname in given:
            continue
        if field.attname in constants:
            value = constants.pop(field.attname)
        else:
            value = field.get_default()  # as the ORM fills it: the default, "" or None
            if value is None and not field.null:
                raise ValueError(f"{model.__name__}.{field.attname} needs a value")
        fixed.append((field, field.get_db_prep_save(value, connection)))
    if constants:
        raise ValueError(f"unknown columns: {', '.join(constants)}")
    return fixed


def _constant_sql(field: models.Field) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(%s AS {field.db_type(connection)})"
    return "%s"


def rows_insert(
    model: type[models.Model],
    *,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
    returning: bool = False,
) -> list[int]:
    """Insert ``rows`` (values in the order of ``columns``, field attnames) into ``model``'s table
    in one statement; every other field gets ``constants[name]`` or its default. Returns the new
    primary keys in the order of ``rows`` when ``returning`` (ids are drawn in insertion order)."""
    if not rows:
        return []
    meta = model._meta
    by_attname = {field.attname: field for field in meta.concrete_fields}
    varying = [by_attname[name] for name in columns]
    fixed = _constants(model, given=columns, constants=constants)
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(field.column)) for field in [*varying, *(field for field, _ in fixed)])
    payload = json.dumps([list(row) for row in rows], separators=(",", ":"))
    if connection.vendor == "postgresql":
        selected = [f"CAST(j.value->>{index} AS {field.db_type(connection)})" for index, field in enumerate(varying)]
        source = "jsonb_array_elements(CAST(%s AS jsonb)) WITH ORDINALITY AS j(value, n) ORDER BY j.n"
    else:
        selected = [f"json_extract(j.value, '$[{index}]')" for index in range(len(varying))]
        source = "json_each(%s) AS j ORDER BY j.key"
    selected += [_constant_sql(field) for field, _ in fixed]
    sql = f"INSERT INTO {quote(meta.db_table)} ({names}) SELECT {', '.join(selected)} FROM {source}"
    if returning:
        sql += f" RETURNING {quote(str(meta.pk.column))}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for _, value in fixed] + [payload])
        if not returning:
            return []
        return sorted(row[0] for row in cursor.fetchall())


def rows_insert_select(
    model: type[models.Model],
    *,
    columns: Mapping[str, str],
    source: str,
    params: Sequence[Any] = (),
    source_params: Sequence[Any] = (),
    constants: Mapping[str, Any] | None = None,
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """``INSERT INTO model's table ... SELECT ... FROM source``: rows computed by the database
    from rows it already has (e.g. one system message per attendee row just inserted), so none
    is built in Python or shipped as a parameter. ``columns``: field attname -> SQL expression
    over ``source`` (its ``%s`` filled from ``params``, in order); ``source``: the FROM clause
    onwards (``source_params``), with an ORDER BY when the order of the new ids matters (they
    are drawn in that order). Every other field gets ``constants[name]`` or its default. Returns
    the ``returning`` columns of the new rows."""
    meta = model._meta
    by_attname = {field.attname: field for field in meta.concrete_fields}
    varying = [by_attname[name] for name in columns]
    fixed = _constants(model, given=list(columns), constants=constants)
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(field.column)) for field in [*varying, *(field for field, _ in fixed)])
    selected = [*columns.values(), *(_constant_sql(field) for field, _ in fixed)]
    sql = f"INSERT INTO {quote(meta.db_table)} ({names}) SELECT {', '.join(selected)} FROM {source}"
    if returning:
        sql += " RETURNING " + ", ".join(quote(str(by_attname[name].column)) for name in returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *(value for _, value in fixed), *source_params])
        return cursor.fetchall() if returning else []
