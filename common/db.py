"""Database adaptation shared by every app, and the read-replica router.

Reads that may go to a read replica (a second database alias, `replica`).

`DATABASE_REPLICA_URL` adds the alias; `READ_REPLICA_ENABLED` (default: on when the
alias exists) lets the router use it. Only code that opts in reads from the replica:
dashboards, lists and exports run inside `replica_reads()` (or are decorated with
`@reads_from_replica`), so a page that has just written never reads its own write
from a replica that lags. Inside a transaction every read stays on the primary.
Writes always go to `default`, and migrations run there only.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import wraps

from django.conf import settings
from django.db import connections


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





REPLICA = "replica"
_use_replica: ContextVar[bool] = ContextVar("use_replica", default=False)


def replica_available() -> bool:
    return REPLICA in settings.DATABASES and bool(
        getattr(settings, "READ_REPLICA_ENABLED", False)
    )


@contextmanager
def replica_reads():
    token = _use_replica.set(True)
    try:
        yield
    finally:
        _use_replica.reset(token)


def reads_from_replica(view):
    """Decorate a read-only view (list, dashboard, export) so its reads may go to
    the replica."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        with replica_reads():
            return view(*args, **kwargs)

    return wrapped


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if (
            _use_replica.get()
            and replica_available()
            and not connections["default"].in_atomic_block
        ):
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both aliases

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
