"""Bulk inserts of many rows in one statement: PostgreSQL's COPY, with the primary keys
taken from the table's own sequence first, so the caller can link child rows to their
parents without reading anything back.

For a job that writes tens of thousands of rows at once (a score run's scores, lines
and evidence), COPY costs a fraction of `bulk_create`'s multi-row INSERTs: no model
instances, no parameter binding per value, no RETURNING. Other databases (SQLite in
development) get `bulk_create` with the same ids, so callers have one path.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from django.db import connection


def reserve_ids(model, count: int) -> list[int]:
    """`count` new primary keys for `model`, in increasing order, from its sequence
    (PostgreSQL); elsewhere the next ones after the current maximum (the caller
    holds the table's only writer, as a job in a transaction does in development)."""
    if count <= 0:
        return []
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) "
                "FROM generate_series(1, %s)",
                [table, pk, count],
            )
            return sorted(row[0] for row in cursor.fetchall())
        cursor.execute(
            f"SELECT COALESCE(MAX({connection.ops.quote_name(pk)}), 0) "
            f"FROM {connection.ops.quote_name(table)}"
        )
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


def _copy_text(value) -> str:
    """One value in PostgreSQL COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def copy_insert(model, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Insert `rows` (tuples in the order of `columns`, attribute names such as
    `run_id`, primary key included) into `model`'s table. Values must already be
    what the column stores (no field conversion happens): text, numbers, Decimals,
    booleans, aware datetimes or None."""
    fields = [model._meta.get_field(name) for name in columns]
    if connection.vendor != "postgresql":
        model._base_manager.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in rows],
            batch_size=2000,
        )
        return
    copy_rows(model._meta.db_table, [f.column for f in fields], rows)


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """COPY `rows` (tuples in the order of `columns`, database column names) into
    `table`, a real or temporary table (PostgreSQL only). Values as for
    `copy_insert`."""
    buf = io.StringIO()
    for row in rows:
        # Whole numbers (most values of a bulk load) skip the call.
        buf.write("\t".join([str(v) if type(v) is int else _copy_text(v) for v in row]))
        buf.write("\n")
    buf.seek(0)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    table = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {table} ({quoted}) FROM STDIN", buf)
