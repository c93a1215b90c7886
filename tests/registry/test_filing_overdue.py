"""The ledger's "filing overdue" filter: filed late, awaiting approval past the
deadline, or pending with nothing filed past the default deadline."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from registry.ledger import unfiled_cutoff
from registry.models import AccountStatus
from registry.services import filings
from tests.registry.helpers import file_open
from tests.registry.ledger_factories import make_account


def _names(user, value: str) -> set[str]:
    client = APIClient()
    client.force_authenticate(user)
    r = client.get("/api/v1/ledger/", {"filing_overdue": value, "page_size": 100})
    assert r.status_code == 200
    return {row["display_name"] for row in r.json()["results"]}


def test_filing_overdue_filter(world):
    mine, sup = world.mine, world.mine.users[Role.SUPERVISOR]
    today = timezone.localdate()
    file_open(mine, name="甲一按时", code="weibo", event_date=today)  # awaiting, not yet due
    late = file_open(
        mine, name="甲一迟报", code="douyin", event_date=today - timedelta(days=40)
    )
    assert late.is_late
    with time_machine.travel(timezone.now() - timedelta(days=30), tick=False):
        # filed on time thirty days ago, never decided: past its deadline now
        stuck = file_open(
            mine, name="甲一积压", code="toutiao", event_date=timezone.localdate()
        )
        assert not stuck.is_late
        # recorded (imported) as pending thirty days ago, nothing filed
        make_account(mine.county_dept, "甲一旧待备案", status=AccountStatus.PENDING)
    decided = file_open(mine, name="甲一驳回", code="kuaishou", event_date=today)
    # the supervising organization's supervisor decides (分级备案)
    filings.filing_reject(filing=decided, actor=mine.city_supervisor, reason="不规范")
    make_account(mine.county_dept, "甲一新待备案", status=AccountStatus.PENDING,
                 opened_on=today - timedelta(days=1))
    make_account(mine.county_dept, "甲一开设久未备案", status=AccountStatus.PENDING,
                 opened_on=today - timedelta(days=30))
    make_account(mine.county_dept, "甲一正常")
    make_account(world.other.city_dept, "乙一旧待备案", status=AccountStatus.PENDING,
                 opened_on=today - timedelta(days=30))

    overdue = {"甲一迟报", "甲一积压", "甲一旧待备案", "甲一开设久未备案"}
    assert _names(sup, "true") == overdue
    assert _names(sup, "false") == {"甲一按时", "甲一驳回", "甲一新待备案", "甲一正常"}

    # approving the stuck filing puts it on record; the late one stays flagged
    filings.filing_approve(filing=stuck, actor=mine.city_supervisor)
    filings.filing_approve(filing=late, actor=mine.city_supervisor)
    assert _names(sup, "true") == overdue - {"甲一积压"}
    # another province sees only its own
    assert _names(world.other.users[Role.SUPERVISOR], "true") == {"乙一旧待备案"}


def test_unfiled_cutoff_leaves_five_working_days(world):
    today = timezone.localdate()
    cutoff = unfiled_cutoff(today)
    # at least five working days lie between the cutoff and today
    assert today - cutoff >= timedelta(days=6)
    from workcalendar.calendar import add_working_days

    assert add_working_days(cutoff, 5).date < today
    assert add_working_days(cutoff + timedelta(days=1), 5).date >= today


def test_the_page_explains_the_filter(world):
    client = Client()
    client.force_login(world.mine.users[Role.SUPERVISOR])
    # In English: the Chinese catalogue translates the help text.
    r = client.get("/registry/ledger/", {"filing_overdue": "true"}, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="filing-overdue-help"' in html and "awaiting approval" in html
