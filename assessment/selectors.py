"""Scoped reads of the assessment: every list goes through `.visible_to(user)`, with a
constant number of queries whatever the number of rows."""

from __future__ import annotations

from django.db.models import Q

from accounts.scoping import Action, get_visible_or_404, memberships_of, scope_for
from assessment.models import (
    AccountScore,
    AssessmentFreeze,
    ManualEntry,
    OrgScore,
    Rubric,
    ScoreEvidence,
    ScoreLine,
    ScoreRun,
)
from assessment.services.common import ASSESSORS
from assessment.sources import SOURCES, source_label


def is_assessor(user) -> bool:
    return any(m.role in ASSESSORS for m in memberships_of(user))


def assessor_orgs(user) -> list:
    """Organizations where the user may assess (their supervisor memberships)."""
    return sorted(
        {m.organization for m in memberships_of(user) if m.role in ASSESSORS},
        key=lambda o: o.path,
    )


def rubric_list(user):
    return (
        Rubric.objects.visible_to(user)
        .select_related("organization")
        .order_by("-year", "org_path", "-version")
    )


def rubric_detail(user, pk: int) -> Rubric:
    return get_visible_or_404(
        Rubric.objects.select_related("organization", "created_by", "activated_by"),
        user,
        pk=pk,
    )


def run_list(user):
    return (
        ScoreRun.objects.visible_to(user)
        .select_related("organization", "rubric")
        .order_by("-period_start", "-id")
    )


def run_detail(user, pk: int) -> ScoreRun:
    return get_visible_or_404(
        ScoreRun.objects.select_related("organization", "rubric"), user, pk=pk
    )


def account_scores(
    user, run: ScoreRun, *, level: str = "", result: str = "", q: str = ""
):
    """The scores of a run the user may see (an operator sees their own accounts)."""
    qs = AccountScore.objects.visible_to(user).filter(run=run)
    if level:
        qs = qs.filter(level=level)
    if result == "vetoed":
        qs = qs.filter(vetoed=True)
    elif result == "failed":
        qs = qs.filter(passed=False)
    elif result == "passed":
        qs = qs.filter(passed=True)
    if q:
        qs = qs.filter(
            Q(account_label__icontains=q) | Q(organization_label__icontains=q)
        )
    return qs.order_by("level", "rank_in_level", "id")


def org_scores(user, run: ScoreRun):
    return (
        OrgScore.objects.visible_to(user)
        .filter(run=run)
        .order_by("level", "rank_in_level", "id")
    )


def run_account_ids(run: ScoreRun, organization_ids: list[int]):
    """The ids of the accounts a run scored for these organizations (a subquery;
    the caller already sees these organizations' scores)."""
    return AccountScore.objects.filter(
        run=run, organization_id__in=organization_ids
    ).values("account_id")


def score_indices(scores) -> dict:
    """Score id -> its account's communication index over its run's period, for a
    page of account scores: one query for the runs, one per run on the page (a
    list filtered by run: two in all), whatever the number of accounts."""
    from assessment import indices

    by_run: dict[int, list] = {}
    for score in scores:
        by_run.setdefault(score.run_id, []).append(score)
    runs = ScoreRun.objects.in_bulk(list(by_run))
    result = {}
    for run_id, rows in by_run.items():
        run = runs[run_id]
        found = indices.account_indices(
            [r.account_id for r in rows], run.period_start, run.period_end
        )
        for r in rows:
            if r.account_id in found:
                result[r.pk] = found[r.account_id]
    return result


def org_score_indices(org_scores) -> dict:
    """OrgScore id -> the mean WCI/BCI of the organization's accounts scored in
    that run (as score_indices: one query per run on the page)."""
    from assessment import indices

    by_run: dict[int, list] = {}
    for row in org_scores:
        by_run.setdefault(row.run_id, []).append(row)
    runs = ScoreRun.objects.in_bulk(list(by_run))
    result = {}
    for run_id, rows in by_run.items():
        run = runs[run_id]
        found = indices.organization_indices(
            run_account_ids(run, [r.organization_id for r in rows]),
            run.period_start,
            run.period_end,
        )
        for r in rows:
            if r.organization_id in found:
                result[r.pk] = found[r.organization_id]
    return result


def score_detail(user, pk: int) -> AccountScore:
    return get_visible_or_404(
        AccountScore.objects.select_related("run", "run__rubric"), user, pk=pk
    )


def score_lines(score: AccountScore) -> list[ScoreLine]:
    """The lines with their evidence (two queries)."""
    from django.db.models import Prefetch

    return list(
        ScoreLine.objects.filter(score=score)
        .prefetch_related(
            Prefetch(
                "evidence", queryset=ScoreEvidence.objects.order_by("occurred_at", "id")
            )
        )
        .order_by("id")
    )


def manual_entries(user):
    return (
        ManualEntry.objects.visible_to(user)
        .select_related("account", "account__platform", "entered_by", "item")
        .order_by("-occurred_on", "-id")
    )


def freeze_list(user):
    return (
        AssessmentFreeze.objects.visible_to(user)
        .select_related("organization", "frozen_by", "reopened_by", "run")
        .order_by("-year", "org_path", "-version")
    )


def source_choices() -> list[tuple[str, str, bool]]:
    """(code, label, available) of every source, manual first."""
    rows = [("manual", source_label("manual"), True)]
    rows += [(code, str(s.label), s.available) for code, s in sorted(SOURCES.items())]
    return rows


def can_view_business(user) -> bool:
    return not scope_for(user, Action.VIEW).is_empty


def circular_list(user):
    from assessment.models import Circular

    return (
        Circular.objects.visible_to(user)
        .select_related("organization")
        .order_by("-month", "org_path")
    )


def circular_detail(user, pk: int):
    """A circular is seen by its issuing organization's scope, and by any organization
    that sees one of its parts once it is published."""
    from django.http import Http404

    from assessment.models import Circular, CircularPart

    circular = (
        Circular.objects.select_related("organization", "run").filter(pk=pk).first()
    )
    if circular is None:
        raise Http404
    if Circular.objects.visible_to(user).filter(pk=pk).exists():
        return circular
    if CircularPart.objects.visible_to(user).filter(circular_id=pk).exists():
        return circular
    raise Http404


def circular_parts(user, circular) -> list:
    from assessment.models import CircularPart

    return list(
        CircularPart.objects.visible_to(user)
        .filter(circular=circular)
        .order_by("level", "org_path")
    )


def archive_list(user):
    from assessment.models import MonthlyArchive

    return (
        MonthlyArchive.objects.visible_to(user)
        .select_related("organization")
        .order_by("-month", "org_path", "-version")
    )


def export_jobs(user, freeze) -> list:
    """The user's export jobs of this freeze (newest first)."""
    from django.apps import apps

    try:
        job_model = apps.get_model("exportjobs", "ExportJob")
    except LookupError:
        return []
    jobs = list(
        job_model.objects.filter(
            user=user, kind__startswith="assessment_", params__freeze=freeze.pk
        ).order_by("-created_at")[:10]
    )
    from django.urls import reverse

    for job in jobs:
        job.download_url = reverse("exports:download", args=[job.pk])
    return jobs
