"""The annual assessment: freeze a year for a subtree, re-open it (audited, with a
reason). A frozen run's rows never change (score_run_compute leaves frozen runs
alone, and nothing else writes them); the checksum over its rows proves it."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Avg, Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.models import (
    AccountScore,
    AssessmentFreeze,
    FreezeStatus,
    RunStatus,
    ScoreEvidence,
    ScoreLine,
    ScoreRun,
)
from assessment.services.common import require_assessor
from audit.services import audit_record
from common.errors import Conflict, ValidationFailed

SCORE_FIELDS = (
    "id",
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
LINE_FIELDS = (
    "id",
    "score_id",
    "item_code",
    "item_name",
    "part",
    "source",
    "occurrences",
    "points",
    "applied",
    "capped",
)
EVIDENCE_FIELDS = ("id", "line_id", "kind", "object_id", "label", "occurred_at", "url")


def _canon(row) -> bytes:
    return (
        json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"
    ).encode()


def run_checksum(run: ScoreRun) -> str:
    """SHA-256 over the run's rubric items and every score, line and evidence row, in
    id order (streamed: constant memory)."""
    digest = hashlib.sha256()
    digest.update(
        _canon(
            {
                "items": run.items,
                "from": run.period_start,
                "to": run.period_end,
                "opt_in": run.engagement_opt_in,
                "unavailable": run.unavailable_sources,
            }
        )
    )
    for model, fields in (
        (AccountScore, SCORE_FIELDS),
        (ScoreLine, LINE_FIELDS),
        (ScoreEvidence, EVIDENCE_FIELDS),
    ):
        rows = model.objects.filter(run=run).order_by("id").values_list(*fields)
        for row in rows.iterator(chunk_size=5000):
            digest.update(_canon(row))
    return digest.hexdigest()


def year_figures(run: ScoreRun) -> dict:
    """The figures the government-website and open-government annual assessment take:
    accounts, pass rate, vetoes and average per level and per platform, and the counts
    behind the main deduction headings (a few aggregate queries)."""
    scores = AccountScore.objects.filter(run=run)

    def block(rows):
        out = []
        for row in rows:
            n = row["n"]
            out.append(
                {
                    **{
                        k: v
                        for k, v in row.items()
                        if k not in {"n", "avg", "ok", "veto"}
                    },
                    "accounts": n,
                    "passed": row["ok"],
                    "vetoed": row["veto"],
                    "pass_rate": f"{(Decimal(row['ok']) * 100 / n):.1f}"
                    if n
                    else "0.0",
                    "average": f"{(row['avg'] or 0):.2f}",
                }
            )
        return out

    agg = {
        "n": Count("id"),
        "ok": Count("id", filter=Q(passed=True)),
        "veto": Count("id", filter=Q(vetoed=True)),
        "avg": Avg("total"),
    }
    by_level = block(scores.values("level").annotate(**agg).order_by("level"))
    by_platform = block(
        scores.values("platform_label").annotate(**agg).order_by("platform_label")
    )
    total = scores.aggregate(**agg)
    lines = Counter(
        dict(
            ScoreLine.objects.filter(run=run)
            .values("item_code")
            .annotate(n=Count("id"))
            .values_list("item_code", "n")
        )
    )
    headings = [
        {
            "code": i["code"],
            "name": i["name"],
            "part": i["part"],
            "accounts": lines.get(i["code"], 0),
        }
        for i in run.items
    ]
    return {
        "accounts": total["n"],
        "passed": total["ok"],
        "vetoed": total["veto"],
        "pass_rate": f"{(Decimal(total['ok']) * 100 / total['n']):.1f}"
        if total["n"]
        else "0.0",
        "average": f"{(total['avg'] or 0):.2f}",
        "by_level": by_level,
        "by_platform": by_platform,
        "headings": headings,
    }


def year_freeze(*, run: ScoreRun, actor) -> AssessmentFreeze:
    """Freeze `run` as the annual assessment of its organization's subtree. The run must
    be done and cover the whole year; a year already frozen (and not re-opened) is
    refused."""
    organization = run.organization
    role = require_assessor(actor, organization, target=run, what="year_freeze")
    year = run.period_start.year
    if run.status != RunStatus.DONE:
        raise Conflict(
            _("Only a finished score run can be frozen."), code="run_not_done"
        )
    if run.period_start != date(year, 1, 1) or run.period_end != date(year, 12, 31):
        message = _(
            "The annual assessment freezes a run of the whole year (1 January to "
            "31 December)."
        )
        raise ValidationFailed(
            message, code="not_a_whole_year", fields={"run": [message]}
        )
    with transaction.atomic():
        run = ScoreRun.objects.select_for_update().get(pk=run.pk)
        previous = (
            AssessmentFreeze.objects.select_for_update()
            .filter(organization=organization, year=year)
            .order_by("-version")
        )
        if any(f.status == FreezeStatus.FROZEN for f in previous):
            raise Conflict(
                _("%(year)s is already frozen for this organization; re-open it first.")
                % {"year": year},
                code="year_already_frozen",
            )
        last = previous.first()
        checksum = run_checksum(run)
        freeze = AssessmentFreeze(
            organization=organization,
            org_path=organization.path,
            year=year,
            version=(last.version + 1) if last else 1,
            run=run,
            checksum=checksum,
            figures=year_figures(run),
            frozen_by=actor,
            frozen_at=timezone.now(),
        )
        freeze.save()
        run.frozen = True
        run.save(update_fields=["frozen"])
        audit_record(
            actor=actor,
            action="assessment.year_freeze",
            target=freeze,
            organization=organization,
            role=role,
            after={
                "year": year,
                "version": freeze.version,
                "run": run.pk,
                "checksum": checksum,
                "accounts": run.account_count,
            },
        )
    return freeze


def year_reopen(*, freeze: AssessmentFreeze, actor, reason: str) -> AssessmentFreeze:
    """Re-open a frozen year (audited, with the reason). The snapshot stays as it was;
    a new freeze makes a new version."""
    role = require_assessor(
        actor, freeze.organization, target=freeze, what="year_reopen"
    )
    if not (reason or "").strip():
        message = _("Give the reason for re-opening.")
        raise ValidationFailed(message, fields={"reason": [message]})
    with transaction.atomic():
        freeze = AssessmentFreeze.objects.select_for_update().get(pk=freeze.pk)
        if freeze.status != FreezeStatus.FROZEN:
            raise Conflict(_("This assessment is not frozen."), code="not_frozen")
        freeze.status = FreezeStatus.REOPENED
        freeze.reopened_by = actor
        freeze.reopened_at = timezone.now()
        freeze.reopen_reason = reason.strip()
        freeze.save(
            update_fields=["status", "reopened_by", "reopened_at", "reopen_reason"]
        )
        ScoreRun.objects.filter(pk=freeze.run_id).update(frozen=False)
        audit_record(
            actor=actor,
            action="assessment.year_reopen",
            target=freeze,
            organization=freeze.organization,
            role=role,
            before={"status": FreezeStatus.FROZEN, "checksum": freeze.checksum},
            after={"status": FreezeStatus.REOPENED, "reason": freeze.reopen_reason},
        )
    return freeze


def require_frozen(freeze: AssessmentFreeze | None) -> AssessmentFreeze:
    if freeze is None:
        raise Conflict(
            _("This year is not frozen: freeze it before exporting."),
            code="year_not_frozen",
        )
    return freeze


def level_counts(run: ScoreRun) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for level, n in (
        AccountScore.objects.filter(run=run)
        .values("level")
        .annotate(n=Count("id"))
        .values_list("level", "n")
    ):
        counts[level] = n
    return counts
