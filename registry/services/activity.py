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

from django.db import transaction
from django.db.models import Case, DateTimeField, Q, Value, When

from registry.models import MediaAccount


@transaction.atomic
def media_account_record_posts(*, latest: Mapping[int, datetime]) -> int:
    """Move each account's `last_post_at` forward to the given time, never backwards
    (an older or repeated report changes nothing). `latest` maps account id to the
    time of its newest post just seen. One UPDATE for any number of accounts; safe
    to run twice. Returns the number of accounts moved."""
    latest = {int(pk): moment for pk, moment in latest.items() if moment is not None}
    if not latest:
        return 0
    for moment in latest.values():
        if moment.tzinfo is None:
            raise ValueError("aware datetimes only")
    newest = Case(
        *(When(pk=pk, then=Value(moment)) for pk, moment in latest.items()),
        output_field=DateTimeField(),
    )
    return (
        MediaAccount.objects.filter(pk__in=list(latest))
        .filter(Q(last_post_at__isnull=True) | Q(last_post_at__lt=newest))
        .update(last_post_at=newest)
    )
