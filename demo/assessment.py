"""Demo data of the assessment (called by seed_demo): a rubric in force for this year
and last year, a scored month with a published circular, a frozen past year with
manual entries behind it, and last month's archive. Everything goes through the
services with demo-supervisor as the actor. Idempotent: each step looks for what it
would make first, so a second run writes nothing."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from accounts.models import Organization, User
from assessment.models import (
    AssessmentFreeze,
    Circular,
    CircularStatus,
    ManualEntry,
    Rubric,
    RubricStatus,
    ScoreRun,
)
from assessment.services import archives, circulars, freeze, rubrics, scoring
from registry.models import MediaAccount

PROVINCE = "云岭省人民政府"


def _rubric(province, year, supervisor) -> tuple[Rubric, bool]:
    found = Rubric.objects.filter(
        organization=province, year=year, status=RubricStatus.ACTIVE
    ).first()
    if found:
        return found, False
    draft = rubrics.rubric_create_default(
        organization=province, year=year, actor=supervisor
    )
    return rubrics.rubric_activate(rubric=draft, actor=supervisor), True


def _run(province, start, end, supervisor) -> tuple[ScoreRun, bool]:
    found = ScoreRun.objects.filter(
        organization=province, period_start=start, period_end=end, status="done"
    ).first()
    if found:
        return found, False
    return scoring.score_run_request(
        organization=province,
        period_start=start,
        period_end=end,
        actor=supervisor,
        run_now=True,
    ), True


def _manual(rubric, accounts, supervisor, year) -> int:
    """A few findings of the past year: commendations, content errors, one veto."""
    if ManualEntry.objects.filter(item__rubric=rubric).exists():
        return 0
    plan = [
        (
            "commendation",
            0,
            "5",
            f"入选省级政务新媒体优秀案例（云政办函〔{year}〕12号）",
        ),
        ("commendation", 3, "10", "年度通报表扬，回应关切及时"),
        ("innovation", 3, "5", "开设“办事指南”栏目，服务创新"),
        ("content_errors", 5, "1", "6月12日推文出现错别字，已更正"),
        ("content_errors", 5, "1", "9月3日推文引用文件文号错误，已更正"),
        ("security_incident", 8, None, "11月发布含个人信息的截图，属严重表述错误"),
    ]
    made = 0
    for code, index, points, evidence in plan:
        if index >= len(accounts):
            continue
        rubrics.manual_entry_create(
            item=rubric.items.get(code=code),
            account=accounts[index],
            occurred_on=date(year, 6 + index % 6, 15),
            points=points,
            evidence=evidence,
            actor=supervisor,
        )
        made += 1
    return made


def seed(*, stdout) -> int:
    province = Organization.objects.filter(name=PROVINCE, depth=1).first()
    supervisor = User.objects.filter(username="demo-supervisor").first()
    if province is None or supervisor is None:
        stdout.write("Assessment demo: the demo province is missing; skipped.")
        return 0
    today = timezone.localdate()
    last_year = today.year - 1
    created = 0
    accounts = list(
        MediaAccount.objects.filter(
            org_path__startswith=province.path, status="active"
        ).order_by("id")[:12]
    )

    # The frozen past year, with findings behind it.
    past, made = _rubric(province, last_year, supervisor)
    created += made
    created += _manual(past, accounts, supervisor, last_year)
    if not AssessmentFreeze.objects.filter(
        organization=province, year=last_year
    ).exists():
        run, _made = _run(
            province, date(last_year, 1, 1), date(last_year, 12, 31), supervisor
        )
        freeze.year_freeze(run=run, actor=supervisor)
        created += 1

    # This year: a scored month and its published circular.
    _current, made = _rubric(province, today.year, supervisor)
    created += made
    month_end = today.replace(day=1) - timedelta(days=1)
    month_start = month_end.replace(day=1)
    if month_start.year == today.year:
        run, made = _run(province, month_start, month_end, supervisor)
        created += made
        if not Circular.objects.filter(
            organization=province, month=month_start
        ).exists():
            circular = circulars.circular_generate(run=run, actor=supervisor)
            circulars.circular_transition(
                circular=circular,
                to=CircularStatus.REVIEWED,
                actor=supervisor,
                note="已核对各单位数据",
            )
            circulars.circular_transition(
                circular=circular, to=CircularStatus.PUBLISHED, actor=supervisor
            )
            created += 1
    # The monthly archive of the demo's working department (the beat job does every
    # organization on the first working day of the month).
    work = Organization.objects.filter(name="苍澜市公安局").first()
    result = archives.archive_month(
        month_start, organization_ids=[work.pk] if work else []
    )
    created += result["created"]
    stdout.write(
        f"Assessment demo: {created} parts created (frozen {last_year}, "
        f"circular {month_start:%Y-%m}, archives {result})."
    )
    return created
