"""Two supervisors approving the same filing at once: exactly one succeeds (the row
lock serializes them; the second finds the filing decided). PostgreSQL only."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from accounts.models import Role
from common.errors import Conflict
from registry.models import Filing, FilingStatus
from registry.services import filings
from tests.factories import make_user
from tests.registry.helpers import file_open


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_double_approval_only_one_wins(world):
    if connection.vendor != "postgresql":
        reason = "needs PostgreSQL row locks (run with DATABASE_URL=postgres://...)"
        print(reason)
        pytest.skip(reason)
    f = file_open(world.mine)
    # two supervisors of the supervising organization (the city) decide at once
    second = make_user(world.mine.city, Role.SUPERVISOR, username="city-supervisor-2")
    deciders = [world.mine.city_supervisor, second]
    barrier = threading.Barrier(2)
    results: list[str] = []

    def decide(user):
        try:
            barrier.wait()
            filings.filing_approve(filing=f, actor=user)
            results.append("ok")
        except Conflict:
            results.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=(u,)) for u in deciders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "ok"]
    f.refresh_from_db()
    assert f.status == FilingStatus.APPROVED
    from audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="filing.approved", target_id=str(f.pk)).count() == 1
    assert AuditEvent.objects.filter(action="media_account.opened").count() == 1
    assert Filing.objects.filter(pk=f.pk).count() == 1
