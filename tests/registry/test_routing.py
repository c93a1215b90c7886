"""Routing filings by level (分级备案): the supervisors of the account's supervising
organization decide its filings and alone are told; the level above sees a filing
only when it is overdue, when it escalates."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Role
from common.errors import PermissionDenied
from notifications.models import Notification
from registry import selectors
from registry.models import FilingStatus
from registry.services import filings
from registry.services.routing import filings_escalate_overdue
from tests.registry.helpers import file_open

pytestmark = pytest.mark.django_db


def test_the_supervising_level_decides_not_any_supervisor_above(world):
    """DOMAIN rule 1: the city department's filing is decided by the city's
    supervisors; the province supervisor may not decide it while it is on time."""
    ns = world.mine
    province = ns.users[Role.SUPERVISOR]
    f = file_open(ns)
    assert f.decider_organization == ns.city
    assert f.escalation_organization == ns.province
    assert not filings.can_decide(province, f)
    with pytest.raises(PermissionDenied) as exc:
        filings.filing_approve(filing=f, actor=province)
    assert exc.value.code == "not_supervisor"
    f.refresh_from_db()
    assert f.status == FilingStatus.SUBMITTED
    filings.filing_approve(filing=f, actor=ns.city_supervisor)
    f.refresh_from_db()
    assert f.status == FilingStatus.APPROVED


def test_only_the_deciding_level_is_notified(world):
    """DOMAIN rule 1: a province office does not receive every filing below it."""
    ns = world.mine
    file_open(ns)
    told = set(
        Notification.objects.filter(kind="registry.filing_submitted").values_list(
            "recipient", flat=True
        )
    )
    assert told == {ns.city_supervisor.pk}


def test_the_province_queue_holds_only_escalated_filings_from_below(world):
    """DOMAIN rule 1: the level above sees a filing once it is overdue; it escalates
    once (audited, one notification), and may then be decided there."""
    ns = world.mine
    province = ns.users[Role.SUPERVISOR]
    f = file_open(ns)
    assert list(selectors.filing_queue(province)) == []
    assert list(selectors.filing_queue(ns.city_supervisor)) == [f]
    later = f.due_at + timedelta(days=1)
    with time_machine.travel(later, tick=False):
        assert list(selectors.filing_queue(province)) == [f]
        assert filings_escalate_overdue() == 1
        assert filings_escalate_overdue() == 0
        told = Notification.objects.filter(kind="registry.filing_escalated")
        assert list(told.values_list("recipient", flat=True)) == [province.pk]
        f.refresh_from_db()
        assert f.escalated_at == timezone.now()
        filings.filing_approve(filing=f, actor=province)
    f.refresh_from_db()
    assert f.status == FilingStatus.APPROVED
