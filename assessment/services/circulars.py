"""Monthly circulars (月度通报, rule 27 and 42): generated from a month's score run,
reviewed by the supervisor, then published; each organization sees its own part."""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.models import (
    CIRCULAR_TRANSITIONS,
    AccountScore,
    Circular,
    CircularPart,
    CircularStatus,
    OrgScore,
    Part,
    RunStatus,
    ScoreLine,
    ScoreRun,
)
from assessment.services.common import require_assessor
from assessment.sources import SOURCES
from audit.services import audit_record
from common.errors import Conflict, ValidationFailed

RECTIFICATION_SOURCE = "rectification_late"


def _is_calendar_month(run: ScoreRun) -> bool:
    start, end = run.period_start, run.period_end
    last = calendar.monthrange(start.year, start.month)[1]
    return start.day == 1 and end == date(start.year, start.month, last)


def circular_content(run: ScoreRun) -> tuple[dict, list[CircularPart]]:
    """The summary and one part per organization with scored accounts (a handful of
    set-based queries over the run's stored results)."""
    orgs = list(OrgScore.objects.filter(run=run).order_by("org_path"))
    headings: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    commended: dict[int, list] = defaultdict(list)
    lines = (
        ScoreLine.objects.filter(run=run)
        .values_list(
            "score__organization_id",
            "item_code",
            "item_name",
            "part",
            "applied",
            "score__account_label",
            "score__platform_label",
            "occurrences",
        )
        .order_by("score__organization_id", "id")
    )
    for org_id, code, name, part, applied, account, platform, n in lines.iterator(
        chunk_size=5000
    ):
        entry = {
            "account": account,
            "platform": platform,
            "occurrences": n,
            "points": str(applied),
        }
        if part == Part.BONUS:
            commended[org_id].append({**entry, "item": name})
        else:
            headings[org_id][code].append(entry)
    items = {i["code"]: i for i in run.items}
    rectification_available = (
        RECTIFICATION_SOURCE in SOURCES and SOURCES[RECTIFICATION_SOURCE].available
    )
    parts = []
    for o in orgs:
        per_item = headings.get(o.organization_id, {})
        parts.append(
            CircularPart(
                organization_id=o.organization_id,
                organization_label=o.organization_label,
                org_path=o.org_path,
                level=o.level,
                figures={
                    "accounts": o.accounts,
                    "passed": o.passed,
                    "vetoed": o.vetoed,
                    "average": str(o.average),
                    "rank_in_level": o.rank_in_level,
                },
                headings=[
                    {
                        "code": code,
                        "name": items[code]["name"],
                        "part": items[code]["part"],
                        "accounts": per_item[code],
                    }
                    for code in items
                    if code in per_item
                ],
                commended=commended.get(o.organization_id, []),
                rectification={"available": rectification_available},
            )
        )
    scores = AccountScore.objects.filter(run=run)
    summary = {
        "accounts": scores.count(),
        "passed": scores.filter(passed=True).count(),
        "vetoed": scores.filter(vetoed=True).count(),
        "organizations": len(orgs),
        "unavailable": [
            items[c]["name"] for c in run.unavailable_sources if c in items
        ],
        "engagement_opt_in": run.engagement_opt_in,
    }
    return summary, parts


def circular_generate(*, run: ScoreRun, actor) -> Circular:
    """A draft circular from a finished run of one calendar month. Generating again
    while the circular is a draft replaces its content; a reviewed or published one
    does not change."""
    organization = run.organization
    role = require_assessor(actor, organization, target=run, what="circular_generate")
    if run.status != RunStatus.DONE:
        raise Conflict(
            _("Only a finished score run makes a circular."), code="run_not_done"
        )
    if not _is_calendar_month(run):
        message = _("A monthly circular takes the score run of one calendar month.")
        raise ValidationFailed(message, code="not_a_month", fields={"run": [message]})
    month = run.period_start
    summary, parts = circular_content(run)
    with transaction.atomic():
        circular = (
            Circular.objects.select_for_update()
            .filter(organization=organization, month=month)
            .first()
        )
        if circular is not None and circular.status != CircularStatus.DRAFT:
            raise Conflict(
                _("The circular of this month is already reviewed or published."),
                code="circular_not_draft",
            )
        title = _("%(org)s: circular on government new media, %(month)s") % {
            "org": organization.name,
            "month": f"{month:%Y-%m}",
        }
        if circular is None:
            circular = Circular(
                organization=organization,
                org_path=organization.path,
                month=month,
                created_by=actor,
            )
        circular.run = run
        circular.title = title[:200]
        circular.summary = summary
        circular.save()
        circular.parts.all().delete()
        for part in parts:
            part.circular = circular
        CircularPart.objects.bulk_create(parts, batch_size=2000)
        audit_record(
            actor=actor,
            action="assessment.circular_generate",
            target=circular,
            organization=organization,
            role=role,
            after={"month": f"{month:%Y-%m}", "run": run.pk, "parts": len(parts)},
        )
    return circular


def circular_transition(
    *, circular: Circular, to: str, actor, note: str = ""
) -> Circular:
    """Review (draft -> reviewed), send back (reviewed -> draft) or publish
    (reviewed -> published), by a supervisor of the issuing organization."""
    role = require_assessor(
        actor, circular.organization, target=circular, what=f"circular_{to}"
    )
    with transaction.atomic():
        circular = Circular.objects.select_for_update().get(pk=circular.pk)
        if to not in CIRCULAR_TRANSITIONS.get(circular.status, frozenset()):
            raise Conflict(
                _("This circular cannot go from %(from)s to %(to)s.")
                % {
                    "from": circular.get_status_display(),
                    "to": CircularStatus(to).label,
                },
                code="circular_transition",
            )
        before = circular.status
        now = timezone.now()
        fields = ["status"]
        circular.status = to
        if to == CircularStatus.REVIEWED:
            circular.reviewed_by, circular.reviewed_at = actor, now
            circular.review_note = (note or "").strip()
            fields += ["reviewed_by", "reviewed_at", "review_note"]
        elif to == CircularStatus.PUBLISHED:
            circular.published_by, circular.published_at = actor, now
            fields += ["published_by", "published_at"]
        circular.save(update_fields=fields)
        audit_record(
            actor=actor,
            action="assessment.circular_transition",
            target=circular,
            organization=circular.organization,
            role=role,
            before={"status": before},
            after={"status": to, "note": note},
        )
    return circular
