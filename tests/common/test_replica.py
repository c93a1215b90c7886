"""The read-replica router (common/db.py), with the alias on the same server."""

from __future__ import annotations

import pytest
from django.db import connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Organization, Role
from common.db import ReplicaRouter, replica_reads


def test_router_sends_opted_in_reads_to_the_replica_only(settings):
    router = ReplicaRouter()
    settings.READ_REPLICA_ENABLED = True
    assert router.db_for_read(Organization) is None  # not opted in: primary
    with replica_reads():
        assert router.db_for_read(Organization) == "replica"
    assert router.db_for_write(Organization) == "default"
    assert router.allow_migrate("replica", "accounts") is False
    settings.READ_REPLICA_ENABLED = False
    with replica_reads():
        assert router.db_for_read(Organization) is None


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_ledger_page_reads_from_the_replica(settings):
    from tests.conftest import build_province

    settings.READ_REPLICA_ENABLED = True
    mine = build_province("甲", "330000")
    client = Client()
    client.force_login(mine.users[Role.SUPERVISOR])
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        with CaptureQueriesContext(connections["default"]) as on_primary:
            assert client.get(reverse("registry:ledger")).status_code == 200
    replica_sql = " ".join(q["sql"] for q in on_replica)
    assert "registry_mediaaccount" in replica_sql  # the list itself
    assert "registry_mediaaccount" not in " ".join(q["sql"] for q in on_primary)
    # Inside a transaction the reads stay on the primary (read your own writes).
    with replica_reads(), transaction.atomic():
        with CaptureQueriesContext(connections["replica"]) as inside:
            Organization.objects.count()
    assert not inside.captured_queries
    connections["replica"].close()  # the mirror's connection must not outlive the test
