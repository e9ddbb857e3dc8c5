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
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection, models


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
    constants = dict(constants or {})
    meta = model._meta
    by_attname = {field.attname: field for field in meta.concrete_fields}
    varying = [by_attname[name] for name in columns]
    fixed: list[tuple[models.Field, Any]] = []
    for field in meta.concrete_fields:
        if field.primary_key or field.attname in columns:
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
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(field.column)) for field in [*varying, *(field for field, _ in fixed)])
    payload = json.dumps([list(row) for row in rows], separators=(",", ":"))
    if connection.vendor == "postgresql":
        selected = [f"CAST(j.value->>{index} AS {field.db_type(connection)})" for index, field in enumerate(varying)]
        selected += [f"CAST(%s AS {field.db_type(connection)})" for field, _ in fixed]
        source = "jsonb_array_elements(CAST(%s AS jsonb)) WITH ORDINALITY AS j(value, n) ORDER BY j.n"
    else:
        selected = [f"json_extract(j.value, '$[{index}]')" for index in range(len(varying))]
        selected += ["%s" for _ in fixed]
        source = "json_each(%s) AS j ORDER BY j.key"
    sql = f"INSERT INTO {quote(meta.db_table)} ({names}) SELECT {', '.join(selected)} FROM {source}"
    if returning:
        sql += f" RETURNING {quote(str(meta.pk.column))}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for _, value in fixed] + [payload])
        if not returning:
            return []
        return sorted(row[0] for row in cursor.fetchall())
