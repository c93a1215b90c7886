"""The scoring rules (issue 12, Done when): veto first, capped deductions, the bonus
above the threshold, evidence behind every line, rankings; bad rubrics refused."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Role
from assessment.models import AccountScore, RubricStatus, ScoreEvidence, ScoreLine
from assessment.services import rubrics
from assessment.services.scoring import score_run_request
from audit.models import AuditEvent
from common.errors import ApplicationError, PermissionDenied
from tests.assessment.helpers import (
    active_rubric,
    fresh,
    item,
    period_of_year,
    this_year,
    unapproved_post,
)
from tests.moderation.factories import make_account
from tests.registry.helpers import active_account

pytestmark = pytest.mark.django_db


def _run(ns):
    start, end = period_of_year()
    return score_run_request(
        organization=ns.province,
        period_start=start,
        period_end=end,
        actor=ns.users[Role.SUPERVISOR],
        run_now=True,
    )


def test_a_veto_fails_the_account_whatever_its_points(world):
    ns = world.mine
    rubric = active_rubric(ns)
    vetoed = fresh(make_account(ns.city_dept, "weibo"))
    clean = fresh(make_account(ns.city_dept, "douyin"))
    supervisor = ns.users[Role.SUPERVISOR]
    today = timezone.localdate()
    # The vetoed account earns the full bonus and loses no points...
    for acc in (vetoed, clean):
        for code in ("commendation", "innovation"):
            rubrics.manual_entry_create(
                item=item(rubric, code),
                account=acc,
                occurred_on=today,
                points="10",
                evidence="省级通报表扬",
                actor=supervisor,
            )
    # ...but a security incident is a veto item.
    rubrics.manual_entry_create(
        item=item(rubric, "security_incident"),
        account=vetoed,
        occurred_on=today,
        evidence="泄密事件通报 2026-1号",
        actor=supervisor,
    )
    run = _run(ns)
    bad = AccountScore.objects.get(run=run, account=vetoed)
    good = AccountScore.objects.get(run=run, account=clean)
    assert (bad.base, bad.bonus, bad.total) == (
        Decimal("100"),
        Decimal("20"),
        Decimal("120"),
    )
    assert bad.vetoed and not bad.passed
    assert good.passed and not good.vetoed and good.total == Decimal("120")
    # Ranked after every account that passed, in its level.
    assert bad.rank_in_level > good.rank_in_level


def test_a_deduction_cap_holds_and_the_lines_link_to_their_rows(world):
    ns = world.mine
    active_rubric(ns)
    account = fresh(make_account(ns.city_dept, "weibo"))
    flags = [unapproved_post(ns, account) for _ in range(5)]  # 5 x 5 points, cap 15
    run = _run(ns)
    score = AccountScore.objects.get(run=run, account=account)
    line = ScoreLine.objects.get(score=score, item_code="unapproved_publication")
    assert line.occurrences == 5
    assert (
        line.points == Decimal("25") and line.applied == Decimal("15") and line.capped
    )
    assert score.deductions == Decimal("15") and score.total == Decimal("85")
    evidence = ScoreEvidence.objects.filter(line=line)
    assert {(e.kind, e.object_id) for e in evidence} == {
        ("moderation.flag", str(f.pk)) for f in flags
    }
    assert all(e.url for e in evidence)


def test_late_filings_and_idle_accounts_come_from_the_registry(world):
    ns = world.mine
    active_rubric(ns)
    late = active_account(ns, event_date=timezone.localdate() - timedelta(days=40))
    fresh(late)
    idle = make_account(ns.county_dept, "weibo")
    idle.last_post_at = timezone.now() - timedelta(days=30)
    idle.save(update_fields=["last_post_at"])
    run = _run(ns)
    late_line = ScoreLine.objects.get(run=run, score__account=late)
    assert late_line.item_code == "late_filing" and late_line.applied == Decimal("2")
    assert ScoreEvidence.objects.get(line=late_line).kind == "registry.filing"
    idle_score = AccountScore.objects.get(run=run, account=idle)
    assert idle_score.vetoed
    idle_line = ScoreLine.objects.get(score=idle_score)
    assert idle_line.item_code == "idle_two_weeks"
    assert ScoreEvidence.objects.get(line=idle_line).object_id == str(idle.pk)


def test_unbuilt_sources_are_listed_as_unavailable_not_scored(world, monkeypatch):
    """Every source of the default rubric is built now; one made unavailable (its app
    missing) is listed, not scored."""
    import dataclasses

    from assessment import sources

    ns = world.mine
    active_rubric(ns)
    fresh(make_account(ns.city_dept))
    assert _run(ns).unavailable_sources == []
    monkeypatch.setitem(sources.SOURCES, "low_resolution_rate", dataclasses.replace(
        sources.SOURCES["low_resolution_rate"], built=False))
    run = _run(ns)
    assert run.unavailable_sources == ["low_resolution"]
    assert not ScoreLine.objects.filter(run=run, item_code="low_resolution").exists()


def test_resolution_and_satisfaction_rates_below_the_floor_deduct(world):
    """Rule 21: an account whose on-time resolution rate (replies on time, of those
    answered) or satisfaction rate falls below the rubric's threshold loses the
    item's points; the line names the account."""
    from inbox.models import Message, Satisfaction
    from tests.inbox.factories import receive

    ns = world.mine
    active_rubric(ns)
    account = fresh(make_account(ns.city_dept))
    now = timezone.now()
    for i in range(4):
        message = receive(account, at=now - timedelta(days=3, hours=i))
        Message.objects.filter(pk=message.pk).update(
            first_replied_at=now, replied_on_time=i == 0,
            satisfaction=Satisfaction.SATISFIED if i == 0 else Satisfaction.DISSATISFIED,
        )
    good = fresh(make_account(ns.city_dept, "douyin"))
    message = receive(good, at=now - timedelta(days=3))
    Message.objects.filter(pk=message.pk).update(
        first_replied_at=now, replied_on_time=True, satisfaction=Satisfaction.SATISFIED)
    run = _run(ns)
    codes = set(ScoreLine.objects.filter(run=run, score__account=account)
                .values_list("item_code", flat=True))
    assert {"low_resolution", "low_satisfaction"} <= codes
    assert not ScoreLine.objects.filter(
        run=run, score__account=good, item_code__in=["low_resolution", "low_satisfaction"]
    ).exists()


@time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
def test_inbox_and_supervision_sources_deduct_with_their_evidence(world):
    """Rules 21, 22, 27: a message answered late, a valid message unanswered for three
    months (veto) and an open finding each count, and each line names the row behind
    it. (A fixed date: the message must lie more than 90 days inside the year.)"""
    from datetime import time

    from inbox.models import Message
    from inbox.services.timers import inbox_sweep
    from supervision.models import Finding
    from supervision.services.sweeps import findings_sweep
    from tests.inbox.factories import receive

    ns = world.mine
    active_rubric(ns)
    account = fresh(make_account(ns.city_dept))
    year_start = timezone.make_aware(datetime.combine(period_of_year()[0], time(9)))
    old = receive(account, at=max(year_start, timezone.now() - timedelta(days=120)))
    Message.objects.filter(pk=old.pk).update(must_answer=True)
    inbox_sweep(timezone.now())  # marks the breach
    late = Message.objects.get(pk=old.pk)
    assert late.breached_at is not None
    silent = fresh(make_account(ns.city_dept, "douyin"))
    type(silent).objects.filter(pk=silent.pk).update(
        last_post_at=timezone.now() - timedelta(days=20), verification="verified"
    )
    findings_sweep(timezone.now())
    finding = Finding.objects.filter(account=silent, status="open").first()
    assert finding is not None
    run = _run(ns)
    lines = {
        (line.score.account_id, line.item_code): line
        for line in ScoreLine.objects.filter(run=run).select_related("score")
    }
    late_line = lines[(account.pk, "late_reply")]
    assert ScoreEvidence.objects.get(line=late_line).object_id == str(old.pk)
    assert (account.pk, "unanswered_3_months") in lines
    assert AccountScore.objects.get(run=run, account=account).vetoed
    found = lines[(silent.pk, "open_findings")]
    assert str(finding.pk) in set(
        ScoreEvidence.objects.filter(line=found).values_list("object_id", flat=True)
    )


def test_a_likes_item_is_refused_without_the_opt_in(world):
    ns = world.mine
    supervisor = ns.users[Role.SUPERVISOR]
    rubric = rubrics.rubric_create_default(
        organization=ns.province, year=this_year(), actor=supervisor
    )
    with pytest.raises(ApplicationError) as exc:
        rubrics.rubric_item_save(
            rubric=rubric,
            actor=supervisor,
            code="likes",
            name="点赞数",
            part="bonus",
            source="likes",
            points="1",
            cap="5",
        )
    assert exc.value.code == "engagement_not_opted_in"
    assert not rubric.items.filter(code="likes").exists()
    rubrics.rubric_update(
        rubric=rubric,
        actor=supervisor,
        engagement_opt_in=True,
        engagement_opt_in_reason="本省试点（书面批准）",
    )
    rubrics.rubric_item_save(
        rubric=rubric,
        actor=supervisor,
        code="likes",
        name="点赞数",
        part="bonus",
        source="likes",
        points="1",
        cap="5",
    )
    assert rubric.items.filter(code="likes").exists()


def test_caps_that_do_not_add_up_are_refused_at_activation(world):
    ns = world.mine
    supervisor = ns.users[Role.SUPERVISOR]
    rubric = rubrics.rubric_create_default(
        organization=ns.province, year=this_year(), actor=supervisor
    )
    rubrics.rubric_item_save(
        rubric=rubric, item=item(rubric, "late_filing"), actor=supervisor, cap="20"
    )
    with pytest.raises(ApplicationError) as exc:
        rubrics.rubric_activate(rubric=rubric, actor=supervisor)
    assert exc.value.code == "caps_do_not_add_up" and "items" in exc.value.fields
    rubric.refresh_from_db()
    assert rubric.status == RubricStatus.DRAFT


def test_a_manual_score_outside_its_range_is_refused(world):
    ns = world.mine
    rubric = active_rubric(ns)
    account = make_account(ns.city_dept)
    with pytest.raises(ApplicationError) as exc:
        rubrics.manual_entry_create(
            item=item(rubric, "content_errors"),
            account=account,
            occurred_on=timezone.localdate(),
            points="6",
            evidence="错别字",
            actor=ns.users[Role.SUPERVISOR],
        )
    assert exc.value.code == "points_out_of_range" and "points" in exc.value.fields


def test_an_auditor_is_refused_and_the_refusal_is_audited(world):
    ns = world.mine
    auditor = ns.users[Role.AUDITOR]
    with pytest.raises(PermissionDenied):
        rubrics.rubric_create_default(
            organization=ns.province, year=this_year(), actor=auditor
        )
    event = AuditEvent.objects.filter(action="assessment.change_refused").latest("id")
    assert event.actor_id == auditor.pk and event.after == {
        "attempted": "rubric_create"
    }


def test_an_active_rubric_does_not_change(world):
    ns = world.mine
    rubric = active_rubric(ns)
    with pytest.raises(ApplicationError) as exc:
        rubrics.rubric_update(
            rubric=rubric, actor=ns.users[Role.SUPERVISOR], pass_mark="50"
        )
    assert exc.value.code == "rubric_not_draft"
    copy = rubrics.rubric_new_version(rubric=rubric, actor=ns.users[Role.SUPERVISOR])
    assert copy.version == 2 and copy.items.count() == rubric.items.count()


def _accounts_with_evidence(ns, n):
    """`n` accounts, each with a flag (a deduction) and idle for 30 days (a veto)."""
    for _ in range(n):
        account = make_account(ns.city_dept, "weibo")
        unapproved_post(ns, account)
        account.last_post_at = timezone.now() - timedelta(days=30)
        account.save(update_fields=["last_post_at"])


def test_a_run_costs_the_same_queries_whatever_the_number_of_accounts(world):
    """Scoring and storing are set-based: the sources, the scores, lines and evidence
    (COPY, ids reserved in one query per table) do not query per account or row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ns = world.mine
    active_rubric(ns)
    _accounts_with_evidence(ns, 2)
    with CaptureQueriesContext(connection) as few:
        small = _run(ns)
    _accounts_with_evidence(ns, 6)
    with CaptureQueriesContext(connection) as many:
        large = _run(ns)
    assert large.account_count >= small.account_count + 6
    assert ScoreEvidence.objects.filter(run=large).count() >= (
        ScoreEvidence.objects.filter(run=small).count() + 12
    )
    assert len(many.captured_queries) == len(few.captured_queries), [
        q["sql"][:120] for q in many.captured_queries
    ]


def test_stored_links_are_the_rows_own_urls(world):
    """Links are reversed once per source and filled in per row: each must be the
    row's own URL, exactly what reverse() gives."""
    from django.urls import reverse

    ns = world.mine
    active_rubric(ns)
    account = make_account(ns.county_dept, "douyin")
    account.last_post_at = timezone.now() - timedelta(days=30)
    account.save(update_fields=["last_post_at"])
    late = active_account(ns, event_date=timezone.localdate() - timedelta(days=40))
    fresh(late)
    run = _run(ns)
    idle = ScoreEvidence.objects.get(run=run, line__score__account=account)
    assert idle.url == reverse("registry:account_history", args=[account.pk])
    filing = ScoreEvidence.objects.get(run=run, kind="registry.filing")
    assert filing.url == reverse("registry:filing_detail", args=[int(filing.object_id)])
    assert filing.line.score.account_id == late.pk
