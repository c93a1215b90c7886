"""Activity truth (DOMAIN.md rules 23, 31): an account's last post time follows what
it actually published: every recorded publication (moderation), every post a
platform collector reports, and the supervision app's activity ingestion.

`last_post_at` is observed data, not a governance decision: the audited event is
the publication or the collector report that carries the time, so this service
writes no audit event of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import connection
from django.db.models import Case, DateTimeField, Q, Value, When

from registry.models import MediaAccount

CHUNK = 1000


def media_account_record_posts(*, latest: Mapping[int, datetime]) -> int:
    """Move each account's `last_post_at` forward to the given time, never backwards.

    `latest` maps account ids to the time of their newest post in a batch. Set-based:
    one UPDATE per 1,000 accounts, touching only accounts whose value is older (or
    empty), so a late report of an old post changes nothing. Caller holds the
    transaction. Returns the number of accounts moved."""
    items = list(latest.items())
    moved = 0
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        if connection.vendor == "postgresql":
            values = ", ".join(["(%s::bigint, %s::timestamptz)"] * len(chunk))
            params = [v for pair in chunk for v in pair]
            table = MediaAccount._meta.db_table
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} AS a SET last_post_at = v.at "  # noqa: S608
                    f"FROM (VALUES {values}) AS v(id, at) "
                    "WHERE a.id = v.id AND (a.last_post_at IS NULL OR a.last_post_at < v.at)",
                    params,
                )
                moved += cursor.rowcount
            continue
        whens = [When(pk=pk, then=Value(at)) for pk, at in chunk]
        newer = Q()
        for pk, at in chunk:
            newer |= Q(pk=pk) & (Q(last_post_at__isnull=True) | Q(last_post_at__lt=at))
        moved += MediaAccount.objects.filter(newer).update(
            last_post_at=Case(*whens, output_field=DateTimeField())
        )
    return moved
