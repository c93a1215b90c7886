"""Database adaptation shared by every app."""

from __future__ import annotations

from datetime import UTC, datetime


def register_utc_datetime_adapter() -> None:
    """Send aware datetimes to PostgreSQL in UTC.

    Python accepts UTC offsets up to ±23:59, PostgreSQL only up to ±15:59: a filter or
    field given `2026-03-01T08:00:00-16:37` (a valid instant) ended as a 500 deep in a
    query. The instant is the same in UTC, so every path (filters, serializers, forms)
    is fixed at once.
    """
    try:
        from psycopg2.extensions import ISQLQuote, adapters, register_adapter
    except ImportError:  # SQLite-only installation
        return
    original = adapters[(datetime, ISQLQuote)]

    def adapt(value: datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return original(value)

    register_adapter(datetime, adapt)
