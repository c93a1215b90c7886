"""Done-when: the idle sweep. 15 days and 1 minute flags, 14 days 23 hours does not;
a new post closes the finding; two runs open one finding and send one notice;
suspended (and cancelled) accounts are never idle."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from notifications.models import Notification
from registry.models import MediaAccount
from supervision.models import CloseReason, Finding, FindingKind, FindingStatus
from supervision.services.activity import activity_ingest
from tests.supervision.factories import idle_account, staff

pytestmark = pytest.mark.django_db
IDLE = [FindingKind.IDLE]


def test_fifteen_days_and_a_minute_flags_fourteen_days_23_hours_does_not(
    world, run_sweep
):
    ns, now = world.mine, timezone.now()
    late = idle_account(ns.city_dept, days=15 + 1 / (24 * 60), now=now)
    early = idle_account(ns.city_dept, days=14 + 23 / 24, now=now)
    run_sweep(now, kinds=IDLE)
    flagged = set(
        Finding.objects.filter(kind=FindingKind.IDLE, status="open").values_list(
            "account_id", flat=True
        )
    )
    assert late.pk in flagged
    assert early.pk not in flagged


def test_finding_carries_evidence_and_is_assigned_to_the_sponsor(world, run_sweep):
    ns, now = world.mine, timezone.now()
    account = idle_account(ns.city_dept, days=20, now=now)
    run_sweep(now, kinds=IDLE)
    finding = Finding.objects.get(kind=FindingKind.IDLE, account=account)
    assert finding.organization == ns.city_dept
    assert finding.severity == "veto"
    assert finding.evidence["idle_days"] == 20
    assert finding.first_seen_at == finding.last_seen_at == finding.assigned_at == now


def test_a_new_post_closes_the_finding(world, run_sweep):
    ns, now = world.mine, timezone.now()
    account = idle_account(ns.city_dept, days=30, now=now)
    run_sweep(now, kinds=IDLE)
    finding = Finding.objects.get(kind=FindingKind.IDLE, account=account)
    report = activity_ingest(
        actor=ns.users[Role.OPERATOR],
        rows=[
            {
                "account": account.pk,
                "platform_post_id": "p-1",
                "published_at": (now - timedelta(hours=1)).isoformat(),
            }
        ],
    )
    assert report["created"] == 1
    later = now + timedelta(minutes=5)
    run_sweep(later, kinds=IDLE)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.CLOSED
    assert finding.close_reason == CloseReason.NOT_SEEN
    assert finding.closed_at == later


def test_running_twice_opens_one_finding_and_sends_one_notice(world, run_sweep):
    ns, now = world.mine, timezone.now()
    account = idle_account(ns.city_dept, days=40, now=now)
    staff(account, ns)
    first = run_sweep(now, kinds=IDLE)
    second = run_sweep(now + timedelta(minutes=1), kinds=IDLE)
    assert first[FindingKind.IDLE]["opened"] == 1
    assert second[FindingKind.IDLE] == {"opened": 0, "refreshed": 1, "closed": 0}
    assert Finding.objects.filter(kind=FindingKind.IDLE, account=account).count() == 1
    operator = ns.users[Role.OPERATOR]
    notices = Notification.objects.filter(
        recipient=operator, kind="supervision.finding_assigned"
    )
    assert notices.count() == 1
    finding = Finding.objects.get(kind=FindingKind.IDLE, account=account)
    # Seen again by the second run: its "last seen" is that run (the kind's sweep
    # stamp), without the row being rewritten.
    assert finding.last_seen == now + timedelta(minutes=1)
    assert finding.last_seen_at == now
    listed = Finding.objects.filter(pk=finding.pk).with_last_seen().get()
    assert listed.last_seen == now + timedelta(minutes=1)


def test_steady_state_rewrites_no_finding_and_runs_a_fixed_number_of_statements(
    world, run_sweep, django_assert_max_num_queries
):
    """Over 200,000 accounts the steady state keeps ~150,000 open findings of one
    kind: a run that sees them again must not touch their rows, and its statements
    do not grow with their number."""
    from supervision.services.findings import reconcile
    from supervision.services.sweeps import detectors

    ns, now = world.mine, timezone.now()
    accounts = [idle_account(ns.city_dept, days=40, now=now) for _ in range(5)]
    for account in accounts:
        staff(account, ns)
    run_sweep(now, kinds=IDLE)
    before = dict(
        Finding.objects.filter(kind=FindingKind.IDLE).values_list("pk", "last_seen_at")
    )
    assert len(before) == 5
    detector = next(d for d in detectors() if d.kind == FindingKind.IDLE)
    later = now + timedelta(hours=1)
    # stamp read, work_mem, the one-pass diff (and count), the stamp update.
    with django_assert_max_num_queries(6):
        result = reconcile(
            kind=FindingKind.IDLE,
            seen=detector.seen(later),
            now=later,
            evidence=detector.evidence(later),
        )
    assert result == {"opened": 0, "refreshed": 5, "closed": 0}
    after = dict(
        Finding.objects.filter(kind=FindingKind.IDLE).values_list("pk", "last_seen_at")
    )
    assert after == before
    rows = list(Finding.objects.filter(kind=FindingKind.IDLE).with_last_seen())
    assert {f.last_seen for f in rows} == {later}


def test_a_closed_finding_was_last_seen_by_the_run_before_the_one_that_closed_it(
    world, run_sweep
):
    ns, now = world.mine, timezone.now()
    account = idle_account(ns.city_dept, days=40, now=now)
    staff(account, ns)
    run_sweep(now, kinds=IDLE)
    second = now + timedelta(hours=1)
    run_sweep(second, kinds=IDLE)
    MediaAccount.objects.filter(pk=account.pk).update(last_post_at=second)
    third = now + timedelta(hours=2)
    run_sweep(third, kinds=IDLE)
    finding = Finding.objects.get(kind=FindingKind.IDLE, account=account)
    assert finding.status == FindingStatus.CLOSED
    assert finding.closed_at == third
    assert finding.last_seen_at == second
    assert finding.last_seen == second


@pytest.mark.parametrize("status", ["suspended", "cancelled", "pending"])
def test_suspended_cancelled_and_pending_accounts_are_not_idle(
    world, run_sweep, status
):
    ns, now = world.mine, timezone.now()
    account = idle_account(ns.city_dept, days=60, status=status, now=now)
    run_sweep(now, kinds=[FindingKind.IDLE, FindingKind.IDLE_CLEANUP])
    assert not Finding.objects.filter(account=account).exists()


def test_warning_then_idle_then_cleanup_list(world, run_sweep):
    ns, now = world.mine, timezone.now()
    account = idle_account(ns.city_dept, days=13, now=now)
    kinds = [FindingKind.IDLE_WARNING, FindingKind.IDLE, FindingKind.IDLE_CLEANUP]
    run_sweep(now, kinds=kinds)
    assert set(
        Finding.objects.filter(account=account, status="open").values_list(
            "kind", flat=True
        )
    ) == {FindingKind.IDLE_WARNING}
    run_sweep(now + timedelta(days=3), kinds=kinds)
    assert set(
        Finding.objects.filter(account=account, status="open").values_list(
            "kind", flat=True
        )
    ) == {FindingKind.IDLE}
    run_sweep(now + timedelta(days=80), kinds=kinds)
    assert set(
        Finding.objects.filter(account=account, status="open").values_list(
            "kind", flat=True
        )
    ) == {FindingKind.IDLE, FindingKind.IDLE_CLEANUP}


def test_the_sweep_applies_each_organizations_activity_policy(world, run_sweep):
    """Rule 23 / issue 7 item 2: the idle threshold is the registry's activity policy of
    the nearest organization up the tree (else 15 days), the same the ledger applies."""
    from registry.models import ActivityPolicy

    ns, now = world.mine, timezone.now()
    ActivityPolicy.objects.create(organization=ns.city, idle_days=30, cleanup_days=120)
    ActivityPolicy.objects.create(organization=ns.county, idle_days=7, cleanup_days=20)
    city = idle_account(ns.city_dept, days=20, now=now)  # under 30: not idle
    county = idle_account(ns.county_dept, days=8, now=now)  # over 7: idle
    other = idle_account(world.other.city_dept, days=20, now=now)  # default 15: idle
    run_sweep(now, kinds=[FindingKind.IDLE, FindingKind.IDLE_WARNING])
    idle = set(Finding.objects.filter(kind=FindingKind.IDLE).values_list("account_id", flat=True))
    assert idle == {county.pk, other.pk}
    # warned 3 days before its own threshold of 30
    warned = set(
        Finding.objects.filter(kind=FindingKind.IDLE_WARNING).values_list("account_id", flat=True)
    )
    assert city.pk not in warned
    run_sweep(now + timedelta(days=8), kinds=[FindingKind.IDLE, FindingKind.IDLE_WARNING])
    assert Finding.objects.filter(
        kind=FindingKind.IDLE_WARNING, account=city, status="open"
    ).exists()


def test_an_account_that_never_posted_counts_from_its_opening_date(world, run_sweep):
    from registry.models import MediaAccount

    ns, now = world.mine, timezone.now()
    fresh = idle_account(ns.city_dept, days=0, now=now)
    MediaAccount.objects.filter(pk=fresh.pk).update(
        last_post_at=None, opened_on=timezone.localdate() - timedelta(days=5)
    )
    old = idle_account(ns.city_dept, days=0, code="douyin", now=now)
    MediaAccount.objects.filter(pk=old.pk).update(
        last_post_at=None, opened_on=timezone.localdate() - timedelta(days=40)
    )
    run_sweep(now, kinds=IDLE)
    idle = Finding.objects.filter(kind=FindingKind.IDLE)
    assert set(idle.values_list("account_id", flat=True)) == {old.pk}
    assert idle.get().evidence["idle_days"] == 40


def test_inbox_breaches_and_three_month_silences_become_findings(world, run_sweep):
    """Rules 21, 22 (issue 11 item 2): a message past its reply deadline and still
    unanswered is a finding for its organization (deduction); a valid message
    unanswered for three months is a veto finding; answering closes both."""
    from inbox.models import Message, Status
    from inbox.services.timers import inbox_sweep
    from tests.inbox.factories import account_for, receive

    ns, now = world.mine, timezone.now()
    account = account_for(ns.city_dept)
    late = receive(account, at=now - timedelta(days=100))
    Message.objects.filter(pk=late.pk).update(must_answer=True)
    inbox_sweep(now)
    assert Message.objects.get(pk=late.pk).breached_at is not None
    kinds = [FindingKind.SLA_BREACH, FindingKind.UNANSWERED_3M]
    run_sweep(now, kinds=kinds)
    found = {f.kind: f for f in Finding.objects.filter(status="open", kind__in=kinds)}
    assert set(found) == set(kinds)
    assert found[FindingKind.UNANSWERED_3M].severity == "veto"
    assert found[FindingKind.SLA_BREACH].evidence["message"] == late.pk
    assert found[FindingKind.SLA_BREACH].organization_id == late.organization_id
    Message.objects.filter(pk=late.pk).update(status=Status.REPLIED, replied_at=now)
    run_sweep(now + timedelta(minutes=5), kinds=kinds)
    assert not Finding.objects.filter(status="open", kind__in=kinds).exists()
