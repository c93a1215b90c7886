"""Inspections (抽查): a sample of a subtree's live accounts drawn with a stored seed,
automatic checks over the window (no post in the two weeks before the check time is
a veto item, DOMAIN.md rule 28), manual findings by the inspectors, and pass/fail on
the veto items with the pass rate per platform and level."""

from __future__ import annotations

import math
import random
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization
from audit.services import audit_record
from common.errors import Conflict, ValidationFailed
from registry.models import AccountStatus, MediaAccount
from supervision import policy
from supervision.models import (
    AccountPost,
    Finding,
    FindingKind,
    FindingStatus,
    Inspection,
    InspectionItem,
    InspectionStatus,
    Severity,
)
from supervision.services.findings import require_supervisor_over

LIVE = (AccountStatus.ACTIVE, AccountStatus.RECTIFYING)
MAX_SAMPLE = 50_000


def population(organization: Organization) -> list[int]:
    """The live accounts of the subtree, ids in ascending order (the order the
    sample is drawn from)."""
    return list(
        MediaAccount.objects.filter(
            org_path__startswith=organization.path, status__in=LIVE
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


def draw_sample(ids: list[int], percent: int, seed: int) -> list[int]:
    """`percent` of `ids` (at least one), reproducibly: random.Random(seed).sample."""
    if percent >= 100 or not ids:
        return list(ids)
    k = max(1, math.ceil(len(ids) * percent / 100))
    return sorted(random.Random(seed).sample(ids, k))


@transaction.atomic
def inspection_start(
    *,
    actor,
    organization: Organization,
    title: str,
    sample_percent: int = 100,
    seed: int | None = None,
    window_days: int | None = None,
    now=None,
) -> Inspection:
    errors = {}
    if not (title or "").strip():
        errors["title"] = [_("Required.")]
    if not isinstance(sample_percent, int) or not 1 <= sample_percent <= 100:
        errors["sample_percent"] = [_("Between 1 and 100.")]
    if seed is not None and (not isinstance(seed, int) or not 0 <= seed < 2**62):
        errors["seed"] = [_("A whole number from 0.")]
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), fields=errors)
    role = require_supervisor_over(actor, organization)
    now = now or timezone.now()
    seed = seed if seed is not None else secrets.randbits(62)
    ids = population(organization)
    sample = draw_sample(ids, sample_percent, seed)
    if not sample:
        raise ValidationFailed(
            _("There are no live accounts to inspect here."),
            code="nothing_to_inspect",
            fields={"organization": [_("No live accounts.")]},
        )
    if len(sample) > MAX_SAMPLE:
        raise ValidationFailed(
            _("The sample is too large; lower the share."),
            fields={"sample_percent": [_("Too many accounts.")]},
        )
    days = window_days or policy.inspection_window_days()
    inspection = Inspection.objects.create(
        organization=organization,
        org_path=organization.path,
        title=title.strip()[:200],
        sample_percent=sample_percent,
        seed=seed,
        window_start=now - timedelta(days=days),
        window_end=now,
        started_by=actor,
        started_at=now,
        population=len(ids),
        sampled=len(sample),
    )
    rows = MediaAccount.objects.filter(pk__in=sample).values_list(
        "id",
        "organization_id",
        "org_path",
        "platform_id",
        "organization__level",
        "last_post_at",
    )
    InspectionItem.objects.bulk_create(
        [
            InspectionItem(
                inspection=inspection,
                account_id=pk,
                organization_id=org_id,
                org_path=path,
                platform_id=platform_id,
                level=level,
                last_post_at=last,
            )
            for pk, org_id, path, platform_id, level, last in rows
        ],
        batch_size=2000,
    )
    auto_check(inspection)
    audit_record(
        actor=actor,
        action="supervision.inspection_start",
        target=inspection,
        organization=organization,
        role=role,
        after={
            "seed": seed,
            "sample_percent": sample_percent,
            "population": len(ids),
            "sampled": len(sample),
            "window_days": days,
        },
    )
    return inspection


def auto_check(inspection: Inspection) -> None:
    """What the data shows over the window, per sampled account: posts in the
    window (activity), and the automatic veto items: no post in the window (the
    account's last post before the window start, or none, and no activity row in
    it) and the open veto findings at the check time. Three queries."""
    items = InspectionItem.objects.filter(inspection=inspection)
    counts = dict(
        AccountPost.objects.filter(
            account_id__in=items.values("account_id"),
            published_at__gte=inspection.window_start,
            published_at__lt=inspection.window_end,
        )
        .values("account_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("account_id", "n")
    )
    vetoes: dict[int, set[str]] = {}
    for account_id, kind in (
        Finding.objects.filter(
            account_id__in=items.values("account_id"),
            status=FindingStatus.OPEN,
            severity=Severity.VETO,
        )
        .exclude(kind=FindingKind.IDLE)
        .values_list("account_id", "kind")
    ):
        vetoes.setdefault(account_id, set()).add(kind)
    changed = []
    for item in items.only("id", "account_id", "last_post_at"):
        item.posts_in_window = counts.get(item.account_id, 0)
        found = set(vetoes.get(item.account_id, ()))
        posted = item.posts_in_window > 0 or (
            item.last_post_at is not None
            and item.last_post_at >= inspection.window_start
        )
        if not posted:
            found.add(FindingKind.IDLE)
        item.auto_vetoes = sorted(found)
        changed.append(item)
    InspectionItem.objects.bulk_update(
        changed, ["posts_in_window", "auto_vetoes"], batch_size=2000
    )


@transaction.atomic
def inspection_complete(*, inspection: Inspection, actor) -> Inspection:
    """Decide each sampled account on the veto items (automatic ones and the open
    veto findings the inspectors raised in this inspection): two set-based UPDATEs.
    Then count the passes."""
    inspection = (
        Inspection.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=inspection.pk)
    )
    role = require_supervisor_over(actor, inspection.organization)
    if inspection.status != InspectionStatus.OPEN:
        raise Conflict(
            _("This inspection is already completed."), code="inspection_completed"
        )
    items = InspectionItem.objects.filter(inspection=inspection)
    manual_vetoes = Finding.objects.filter(
        inspection=inspection, severity=Severity.VETO, status=FindingStatus.OPEN
    ).values("account_id")
    items.update(passed=True)
    items.filter(~Q(auto_vetoes=[]) | Q(account_id__in=manual_vetoes)).update(
        passed=False
    )
    inspection.passed = items.filter(passed=True).count()
    inspection.status = InspectionStatus.COMPLETED
    inspection.completed_at = timezone.now()
    inspection.save(update_fields=["passed", "status", "completed_at"])
    audit_record(
        actor=actor,
        action="supervision.inspection_complete",
        target=inspection,
        organization=inspection.organization,
        role=role,
        after={"sampled": inspection.sampled, "passed": inspection.passed},
    )
    return inspection


def pass_rates(inspection: Inspection) -> dict:
    """Pass rate per platform and per level (one grouped query each)."""
    items = InspectionItem.objects.filter(inspection=inspection)

    def grouped(field, label_field):
        rows = (
            items.values(field, label_field)
            .annotate(total=Count("id"), passed=Count("id", filter=Q(passed=True)))
            .order_by(field)
        )
        return [
            {
                "key": r[field],
                "label": r[label_field],
                "total": r["total"],
                "passed": r["passed"],
                "rate": round(100.0 * r["passed"] / r["total"], 1)
                if r["total"]
                else None,
            }
            for r in rows
        ]

    return {
        "platform": grouped("platform__code", "platform__name"),
        "level": grouped("level", "level"),
    }
