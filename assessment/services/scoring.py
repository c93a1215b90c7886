"""The scoring engine: set-based, one query per rubric item, never one per account.

`compute_scores` reads (no writes): the accounts of the subtree (one query), each
automatic item's occurrences (one query per source), the manual entries (one query),
then applies the rubric in memory:

    veto first: any occurrence of a veto item fails the account, whatever its points;
    base = 100 - sum over deduction items of min(cap, points x occurrences) x weight;
    bonus = min(bonus cap, sum of min(cap, ...) x weight over bonus items), added only
            when the base reaches the bonus threshold;
    passed = not vetoed and base >= pass mark.

`score_run_compute` writes the results of a run (bulk inserts), with the evidence row
behind every line, and the rankings within each level.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization
from assessment.models import (
    AccountScore,
    ManualEntry,
    OrgScore,
    Part,
    Rubric,
    RunStatus,
    ScoreEvidence,
    ScoreLine,
    ScoreRun,
)
from assessment.services.common import require_assessor
from assessment.services.rubrics import rubric_for
from assessment.sources import MANUAL, SOURCES, Occurrence, Period, scored_accounts
from audit.services import audit_record
from common.bulk import copy_insert, reserve_ids
from common.errors import Conflict, ValidationFailed

log = logging.getLogger(__name__)
HUNDRED = Decimal("100")
CENT = Decimal("0.01")


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Local dates (inclusive) to an absolute [start, end) window in Asia/Shanghai."""
    tz = timezone.get_default_timezone()
    return (
        timezone.make_aware(datetime.combine(start, time.min), tz),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz),
    )


@dataclass
class Line:
    code: str
    name: str
    part: str
    source: str
    occurrences: int = 0
    points: Decimal = Decimal("0")
    applied: Decimal = Decimal("0")
    capped: bool = False
    evidence: list = field(default_factory=list)


@dataclass
class Result:
    account_id: int
    account_label: str
    platform_label: str
    organization_id: int
    organization_label: str
    org_path: str
    level: str
    lines: list[Line]
    vetoed: bool
    deductions: Decimal
    base: Decimal
    bonus: Decimal
    total: Decimal
    passed: bool
    rank_in_level: int = 0


@dataclass
class Computed:
    results: list[Result]
    unavailable: list[str]


def _q(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def apply_rubric(
    lines: list[Line],
    *,
    pass_mark: Decimal,
    bonus_threshold: Decimal,
    bonus_cap: Decimal,
    weights: dict[str, Decimal],
    caps: dict[str, Decimal],
    per: dict[str, Decimal],
):
    """The score of one account from its lines (pure; `lines` are updated in place
    with their capped points). Returns (vetoed, deductions, base, bonus, total,
    passed)."""
    vetoed = False
    deductions = Decimal("0")
    bonus_sum = Decimal("0")
    for line in lines:
        if line.part == Part.VETO:
            vetoed = vetoed or line.occurrences > 0
            continue
        if line.source != MANUAL:
            line.points = per[line.code] * line.occurrences
        capped = min(line.points, caps[line.code])
        line.capped = capped < line.points
        line.applied = _q(capped * weights[line.code])
        if line.part == Part.DEDUCTION:
            deductions += line.applied
        else:
            bonus_sum += line.applied
    base = max(Decimal("0"), HUNDRED - deductions)
    bonus = min(bonus_sum, bonus_cap) if base >= bonus_threshold else Decimal("0")
    passed = not vetoed and base >= pass_mark
    return vetoed, _q(deductions), _q(base), _q(bonus), _q(base + bonus), passed


def compute_scores(
    *,
    root_path: str,
    period_start: date,
    period_end: date,
    items: list[dict],
    pass_mark: Decimal,
    bonus_threshold: Decimal,
    bonus_cap: Decimal,
) -> Computed:
    """Scores of every account below `root_path` for the period (reads only)."""
    start, end = period_bounds(period_start, period_end)
    period = Period(root_path=root_path, start=start, end=end)
    per_account: dict[int, dict[str, Line]] = defaultdict(dict)
    by_code = {i["code"]: i for i in items}
    weights = {c: Decimal(i["weight"]) for c, i in by_code.items()}
    caps = {c: Decimal(i["cap"]) for c, i in by_code.items()}
    per = {c: Decimal(i["points"]) for c, i in by_code.items()}

    def line_for(account_id: int, item: dict) -> Line:
        lines = per_account[account_id]
        if item["code"] not in lines:
            lines[item["code"]] = Line(
                item["code"], item["name"], item["part"], item["source"]
            )
        return lines[item["code"]]

    unavailable = []
    for item in items:
        if item["source"] == MANUAL:
            continue
        source = SOURCES.get(item["source"])
        if source is None or not source.available:
            unavailable.append(item["code"])
            continue
        for occ in source.fetch(period, item.get("params") or {}):
            line = line_for(occ.account_id, item)
            line.occurrences += 1
            line.evidence.append(occ)
    manual_codes = [i["code"] for i in items if i["source"] == MANUAL]
    if manual_codes:
        entries = (
            ManualEntry.objects.in_force()
            .filter(
                org_path__startswith=root_path,
                item_code__in=manual_codes,
                occurred_on__gte=period_start,
                occurred_on__lte=period_end,
            )
            .values_list(
                "id",
                "account_id",
                "item_code",
                "points",
                "evidence",
                "occurred_on",
                "evidence_url",
            )
        )
        tz = timezone.get_default_timezone()
        for (
            entry_id,
            account_id,
            code,
            points,
            evidence,
            day,
            url,
        ) in entries.iterator():
            line = line_for(account_id, by_code[code])
            line.occurrences += 1
            line.points += points
            line.evidence.append(
                Occurrence(
                    account_id,
                    "assessment.manualentry",
                    str(entry_id),
                    evidence[:300],
                    timezone.make_aware(datetime.combine(day, time(12)), tz),
                    url,
                )
            )

    order = {i["code"]: n for n, i in enumerate(items)}
    results: list[Result] = []
    accounts = (
        scored_accounts(root_path, end)
        .values_list(
            "id",
            "display_name",
            "platform__name",
            "organization_id",
            "organization__name",
            "org_path",
            "organization__level",
        )
        .order_by("id")
    )
    for acc_id, name, platform, org_id, org_name, path, level in accounts.iterator(
        chunk_size=5000
    ):
        found = per_account.pop(acc_id, None)
        lines = sorted(found.values(), key=lambda li: order[li.code]) if found else []
        vetoed, deductions, base, bonus, total, passed = apply_rubric(
            lines,
            pass_mark=pass_mark,
            bonus_threshold=bonus_threshold,
            bonus_cap=bonus_cap,
            weights=weights,
            caps=caps,
            per=per,
        )
        results.append(
            Result(
                acc_id,
                name,
                platform,
                org_id,
                org_name,
                path,
                level,
                lines,
                vetoed,
                deductions,
                base,
                bonus,
                total,
                passed,
            )
        )
    # Rankings within each level: passed before failed, then by score, then by id (a
    # stable order, so the same data always ranks the same way).
    by_level: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_level[r.level].append(r)
    for rows in by_level.values():
        rows.sort(key=lambda r: (r.vetoed, -r.total, r.account_id))
        for n, r in enumerate(rows, start=1):
            r.rank_in_level = n
    return Computed(results, unavailable)


# --- runs -------------------------------------------------------------------------------------
def score_run_request(
    *,
    organization: Organization,
    period_start: date,
    period_end: date,
    actor,
    rubric: Rubric | None = None,
    run_now: bool = False,
) -> ScoreRun:
    """Ask for the scores of `organization`'s subtree for a period. The computation runs
    as a Celery job (assessment.compute_run) after commit; `run_now` computes in the
    caller (seed data, tests, the benchmark)."""
    role = require_assessor(actor, organization, what="score_run_request")
    if not isinstance(period_start, date) or not isinstance(period_end, date):
        raise ValidationFailed(
            _("Enter the period's dates."),
            fields={"period_start": [_("Enter a date.")]},
        )
    if period_end < period_start:
        message = _("The period ends before it starts.")
        raise ValidationFailed(message, fields={"period_end": [message]})
    if period_start.year != period_end.year:
        message = _("A period lies within one year (the rubric is per year).")
        raise ValidationFailed(message, fields={"period_end": [message]})
    rubric = rubric or rubric_for(organization, period_start.year)
    if rubric is None:
        message = _("No rubric is in force for %(year)s here: activate one first.") % {
            "year": period_start.year
        }
        raise ValidationFailed(message, code="no_rubric", fields={"rubric": [message]})
    if rubric.status != "active" or not organization.path.startswith(rubric.org_path):
        message = _("That rubric is not in force for this organization.")
        raise ValidationFailed(message, fields={"rubric": [message]})
    with transaction.atomic():
        run = ScoreRun(
            organization=organization,
            org_path=organization.path,
            rubric=rubric,
            period_start=period_start,
            period_end=period_end,
            requested_by=actor,
            items=[i.as_snapshot() for i in rubric.items.all()],
            engagement_opt_in=rubric.engagement_opt_in,
        )
        run.save()
        audit_record(
            actor=actor,
            action="assessment.run_request",
            target=run,
            organization=organization,
            role=role,
            after={
                "rubric": rubric.pk,
                "from": period_start.isoformat(),
                "to": period_end.isoformat(),
            },
        )
        if not run_now:
            from assessment.tasks import compute_run

            transaction.on_commit(lambda: compute_run.delay(run.pk))
    if run_now:
        score_run_compute(run_id=run.pk)
        run.refresh_from_db()
    return run


def _progress(run_id: int, value: int) -> None:
    ScoreRun.objects.filter(pk=run_id).update(progress=value, heartbeat_at=timezone.now())


# The compute task's hard time limit (assessment.tasks.compute_run) plus a margin: a
# run still "running" with no heartbeat for longer was killed with its worker.
RUN_LOST_AFTER_SECONDS = 900 + 120


def score_runs_reap_lost(now=None) -> int:
    """Mark runs whose worker died (no heartbeat past the task's time limit) failed,
    so the supervisor sees it and can run them again. Set-based, idempotent."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=RUN_LOST_AFTER_SECONDS)
    return ScoreRun.objects.filter(
        status=RunStatus.RUNNING, frozen=False
    ).filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)).update(
        status=RunStatus.FAILED,
        error=str(_("The worker stopped while computing this run; run it again.")),
    )


def score_run_compute(*, run_id: int) -> ScoreRun | None:
    """Compute and store a run's scores. Safe to run twice: a run already done (or
    frozen) is left alone; a run that failed half-way is recomputed from scratch."""
    claimed = ScoreRun.objects.filter(
        pk=run_id,
        status__in=[RunStatus.PENDING, RunStatus.FAILED],
        frozen=False,
    ).update(status=RunStatus.RUNNING, progress=1, error="", heartbeat_at=timezone.now())
    if not claimed:
        return None
    run = ScoreRun.objects.select_related("rubric").get(pk=run_id)
    rubric = run.rubric
    try:
        computed = compute_scores(
            root_path=run.org_path,
            period_start=run.period_start,
            period_end=run.period_end,
            items=run.items,
            pass_mark=rubric.pass_mark,
            bonus_threshold=rubric.bonus_threshold,
            bonus_cap=rubric.bonus_cap,
        )
        _progress(run_id, 50)
        with transaction.atomic():
            _store(run, computed)
            run.status = RunStatus.DONE
            run.progress = 100
            run.finished_at = timezone.now()
            run.unavailable_sources = computed.unavailable
            run.account_count = len(computed.results)
            run.save(
                update_fields=[
                    "status",
                    "progress",
                    "finished_at",
                    "unavailable_sources",
                    "account_count",
                ]
            )
            audit_record(
                actor=None,
                action="assessment.run_compute",
                target=run,
                organization=run.organization,
                after={
                    "accounts": run.account_count,
                    "unavailable": computed.unavailable,
                },
            )
    except Exception as exc:  # recorded on the run, then raised for Celery's log
        log.exception("score run %s failed", run_id)
        ScoreRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED, error=str(exc)[:2000]
        )
        raise
    return run


def _store(run: ScoreRun, computed: Computed) -> None:
    """Insert the scores, lines and evidence (after deleting any partial rows of an
    earlier failed attempt). Tens of thousands of rows for a province: written with
    COPY, the ids taken from the sequences first so lines and evidence point at
    their parents without reading anything back (common/bulk.py)."""
    AccountScore.objects.filter(run=run).delete()
    OrgScore.objects.filter(run=run).delete()
    results = computed.results
    score_ids = reserve_ids(AccountScore, len(results))
    copy_insert(
        AccountScore,
        SCORE_COLUMNS,
        (
            (
                sid,
                run.pk,
                r.account_id,
                r.account_label[:100],
                r.platform_label[:60],
                r.organization_id,
                r.organization_label[:120],
                r.org_path,
                r.level,
                r.vetoed,
                r.deductions,
                r.base,
                r.bonus,
                r.total,
                r.passed,
                r.rank_in_level,
            )
            for sid, r in zip(score_ids, results, strict=True)
        ),
    )
    scored_lines = [
        (sid, li) for sid, r in zip(score_ids, results, strict=True) for li in r.lines
    ]
    line_ids = reserve_ids(ScoreLine, len(scored_lines))
    copy_insert(
        ScoreLine,
        LINE_COLUMNS,
        (
            (
                lid,
                sid,
                run.pk,
                li.code,
                li.name[:160],
                li.part,
                li.source,
                li.occurrences,
                _q(li.points),
                li.applied,
                li.capped,
            )
            for lid, (sid, li) in zip(line_ids, scored_lines, strict=True)
        ),
    )
    evidence = [
        (lid, occ)
        for lid, (_sid, li) in zip(line_ids, scored_lines, strict=True)
        for occ in li.evidence
    ]
    evidence_ids = reserve_ids(ScoreEvidence, len(evidence))
    copy_insert(
        ScoreEvidence,
        EVIDENCE_COLUMNS,
        (
            (
                eid,
                lid,
                run.pk,
                occ.kind,
                occ.object_id,
                str(occ.label)[:300],
                occ.occurred_at,
                occ.url[:300],
            )
            for eid, (lid, occ) in zip(evidence_ids, evidence, strict=True)
        ),
    )
    OrgScore.objects.bulk_create(org_scores(run, results), batch_size=5000)


SCORE_COLUMNS = (
    "id",
    "run_id",
    "account_id",
    "account_label",
    "platform_label",
    "organization_id",
    "organization_label",
    "org_path",
    "level",
    "vetoed",
    "deductions",
    "base",
    "bonus",
    "total",
    "passed",
    "rank_in_level",
)
LINE_COLUMNS = (
    "id",
    "score_id",
    "run_id",
    "item_code",
    "item_name",
    "part",
    "source",
    "occurrences",
    "points",
    "applied",
    "capped",
)
EVIDENCE_COLUMNS = (
    "id",
    "line_id",
    "run_id",
    "kind",
    "object_id",
    "label",
    "occurred_at",
    "url",
)


def org_scores(run: ScoreRun, results: list[Result]) -> list[OrgScore]:
    """Per sponsoring organization: accounts, passed, vetoed, average; ranked within
    the level by average."""
    groups: dict[int, list[Result]] = defaultdict(list)
    for r in results:
        groups[r.organization_id].append(r)
    rows = []
    for org_id, rs in groups.items():
        first = rs[0]
        rows.append(
            OrgScore(
                run=run,
                organization_id=org_id,
                organization_label=first.organization_label[:120],
                org_path=first.org_path,
                level=first.level,
                accounts=len(rs),
                passed=sum(1 for r in rs if r.passed),
                vetoed=sum(1 for r in rs if r.vetoed),
                average=_q(sum((r.total for r in rs), Decimal("0")) / len(rs)),
            )
        )
    by_level: dict[str, list[OrgScore]] = defaultdict(list)
    for row in rows:
        by_level[row.level].append(row)
    for level_rows in by_level.values():
        level_rows.sort(key=lambda o: (-o.average, o.org_path))
        for n, row in enumerate(level_rows, start=1):
            row.rank_in_level = n
    return rows


def ensure_not_frozen(run: ScoreRun) -> None:
    if run.frozen:
        raise Conflict(
            _("This run is frozen for the annual assessment."), code="run_frozen"
        )
