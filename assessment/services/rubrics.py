"""Rubrics: create (from the national default), edit drafts, activate, version;
manual entries with evidence."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization
from assessment.models import (
    ManualEntry,
    Part,
    Rubric,
    RubricItem,
    RubricStatus,
)
from assessment.services.common import require_assessor
from assessment.sources import MANUAL, SOURCES
from audit.services import audit_record
from common.errors import Conflict, ValidationFailed

DEFAULT_RUBRIC = (
    Path(__file__).resolve().parent.parent / "data" / "national_default.json"
)
HUNDRED = Decimal("100")
ITEM_FIELDS = (
    "code",
    "name",
    "part",
    "source",
    "points",
    "cap",
    "weight",
    "params",
    "description",
    "order",
)


def _decimal(value, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationFailed(
            _("Enter a number."), fields={field: [_("Enter a number.")]}
        ) from None
    if not number.is_finite():
        raise ValidationFailed(
            _("Enter a number."), fields={field: [_("Enter a number.")]}
        )
    return number


def rubric_for(organization: Organization, year: int) -> Rubric | None:
    """The rubric in force for `organization` in `year`: its own, else the nearest
    ancestor's (a province's rubric applies to its whole subtree)."""
    from moderation.prechecks import ancestor_paths

    candidates = Rubric.objects.filter(
        status=RubricStatus.ACTIVE,
        year=year,
        org_path__in=ancestor_paths(organization.path),
    ).order_by("-org_path")
    return candidates.first()


def _snapshot(rubric: Rubric) -> dict:
    return {
        "name": rubric.name,
        "year": rubric.year,
        "version": rubric.version,
        "status": rubric.status,
        "pass_mark": str(rubric.pass_mark),
        "bonus_threshold": str(rubric.bonus_threshold),
        "bonus_cap": str(rubric.bonus_cap),
        "engagement_opt_in": rubric.engagement_opt_in,
    }


# --- checks ---------------------------------------------------------------------------------
def check_item(
    rubric: Rubric,
    *,
    part: str,
    source: str,
    points: Decimal,
    cap: Decimal,
    weight: Decimal,
    params,
) -> None:
    """Refuse an item that cannot be scored, naming the field and the rule."""
    if part not in Part.values:
        raise ValidationFailed(
            _("Choose veto, deduction or bonus."),
            fields={"part": [_("Choose veto, deduction or bonus.")]},
        )
    if source != MANUAL and source not in SOURCES:
        raise ValidationFailed(
            _("Unknown source."), fields={"source": [_("Unknown source.")]}
        )
    source_def = SOURCES.get(source)
    if (
        source_def is not None
        and source_def.engagement
        and not rubric.engagement_opt_in
    ):
        message = _(
            "National rules forbid scoring on likes, forwards or logins: this "
            "item needs the rubric's explicit opt-in."
        )
        raise ValidationFailed(
            message, code="engagement_not_opted_in", fields={"source": [message]}
        )
    if not isinstance(params, dict):
        raise ValidationFailed(
            _("Parameters are a JSON object."),
            fields={"params": [_("Parameters are a JSON object.")]},
        )
    if weight <= 0 or weight > 10:
        raise ValidationFailed(
            _("A weight is above 0 and at most 10."),
            fields={"weight": [_("A weight is above 0 and at most 10.")]},
        )
    if part == Part.VETO:
        if points != 0 or cap != 0:
            message = _("A veto item fails the account; it has no points or cap.")
            raise ValidationFailed(message, fields={"points": [message]})
        return
    if points <= 0:
        raise ValidationFailed(
            _("Points per occurrence are above 0."),
            fields={"points": [_("Points per occurrence are above 0.")]},
        )
    if cap < points or cap > HUNDRED:
        message = _("The cap is at least the points per occurrence and at most 100.")
        raise ValidationFailed(message, code="cap_invalid", fields={"cap": [message]})


def rubric_check(rubric: Rubric) -> None:
    """What activation requires: marks in order, the deduction caps adding up to 100
    (the score starts from 100), bonus caps within reach, no engagement item without
    the opt-in, and a reason for the opt-in."""
    if not (0 <= rubric.pass_mark <= rubric.bonus_threshold <= HUNDRED):
        message = _(
            "The pass mark must not exceed the bonus threshold, which must not "
            "exceed 100."
        )
        raise ValidationFailed(
            message, code="marks_invalid", fields={"pass_mark": [message]}
        )
    if rubric.engagement_opt_in and not rubric.engagement_opt_in_reason.strip():
        message = _("Give the reason for counting likes, forwards or logins.")
        raise ValidationFailed(message, fields={"engagement_opt_in_reason": [message]})
    items = list(rubric.items.all())
    if not items:
        raise ValidationFailed(
            _("A rubric needs at least one item."),
            fields={"items": [_("A rubric needs at least one item.")]},
        )
    deductions = Decimal("0")
    for item in items:
        check_item(
            rubric,
            part=item.part,
            source=item.source,
            points=item.points,
            cap=item.cap,
            weight=item.weight,
            params=item.params,
        )
        if item.part == Part.DEDUCTION:
            deductions += item.cap * item.weight
    if deductions != HUNDRED:
        message = _(
            "The deduction caps (times their weights) add up to %(sum)s; they "
            "must add up to 100."
        ) % {"sum": deductions.normalize()}
        raise ValidationFailed(
            message, code="caps_do_not_add_up", fields={"items": [message]}
        )


# --- rubric services ------------------------------------------------------------------------
def _require_draft(rubric: Rubric) -> None:
    if rubric.status != RubricStatus.DRAFT:
        raise Conflict(
            _("A rubric in force or retired does not change: make a new version."),
            code="rubric_not_draft",
        )


def rubric_create_default(
    *, organization: Organization, year: int, actor, name: str = ""
) -> Rubric:
    """A draft rubric for `organization` and `year` with the national default items
    (assessment/data/national_default.json: the points are data)."""
    role = require_assessor(actor, organization, what="rubric_create")
    if not 2000 <= int(year) <= 2100:
        raise ValidationFailed(
            _("Enter a year between 2000 and 2100."),
            fields={"year": [_("Enter a year between 2000 and 2100.")]},
        )
    data = json.loads(DEFAULT_RUBRIC.read_text(encoding="utf-8"))
    with transaction.atomic():
        last = (
            Rubric.objects.select_for_update()
            .filter(organization=organization, year=year)
            .order_by("-version")
            .first()
        )
        rubric = Rubric(
            organization=organization,
            org_path=organization.path,
            year=year,
            version=(last.version + 1) if last else 1,
            name=(name or data["name"])[:120],
            pass_mark=Decimal(data["pass_mark"]),
            bonus_threshold=Decimal(data["bonus_threshold"]),
            bonus_cap=Decimal(data["bonus_cap"]),
            created_by=actor,
        )
        rubric.full_clean()
        rubric.save()
        RubricItem.objects.bulk_create(
            [
                RubricItem(
                    rubric=rubric,
                    code=row["code"],
                    name=row["name"],
                    part=row["part"],
                    source=row["source"],
                    points=Decimal(row["points"]),
                    cap=Decimal(row["cap"]),
                    weight=Decimal(row.get("weight", "1")),
                    params=row.get("params", {}),
                    order=(i + 1) * 10,
                )
                for i, row in enumerate(data["items"])
            ]
        )
        audit_record(
            actor=actor,
            action="assessment.rubric_create",
            target=rubric,
            organization=organization,
            role=role,
            after=_snapshot(rubric),
        )
    return rubric


def rubric_update(*, rubric: Rubric, actor, **fields) -> Rubric:
    """Change a draft's name, marks, bonus cap or opt-in."""
    role = require_assessor(
        actor, rubric.organization, target=rubric, what="rubric_update"
    )
    allowed = {
        "name",
        "pass_mark",
        "bonus_threshold",
        "bonus_cap",
        "engagement_opt_in",
        "engagement_opt_in_reason",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed(
            _("Unknown field."),
            fields={name: [_("Unknown field.")] for name in unknown},
        )
    with transaction.atomic():
        rubric = Rubric.objects.select_for_update().get(pk=rubric.pk)
        _require_draft(rubric)
        before = _snapshot(rubric)
        for name, value in fields.items():
            if name in {"pass_mark", "bonus_threshold", "bonus_cap"}:
                value = _decimal(value, name)
                if not 0 <= value <= HUNDRED:
                    raise ValidationFailed(
                        _("Between 0 and 100."),
                        fields={name: [_("Between 0 and 100.")]},
                    )
            setattr(rubric, name, value)
        if (
            not rubric.engagement_opt_in
            and rubric.items.filter(
                source__in=[c for c, s in SOURCES.items() if s.engagement]
            ).exists()
        ):
            message = _(
                "Remove the likes, forwards or logins items before withdrawing "
                "the opt-in."
            )
            raise ValidationFailed(
                message,
                code="engagement_not_opted_in",
                fields={"engagement_opt_in": [message]},
            )
        rubric.full_clean()
        rubric.save(update_fields=list(fields))
        audit_record(
            actor=actor,
            action="assessment.rubric_update",
            target=rubric,
            role=role,
            organization=rubric.organization,
            before=before,
            after=_snapshot(rubric),
        )
    return rubric


def rubric_item_save(
    *, rubric: Rubric, actor, item: RubricItem | None = None, **values
) -> RubricItem:
    """Add or change an item of a draft rubric."""
    role = require_assessor(
        actor, rubric.organization, target=rubric, what="rubric_item_save"
    )
    values = {k: v for k, v in values.items() if k in ITEM_FIELDS}
    with transaction.atomic():
        rubric = Rubric.objects.select_for_update().get(pk=rubric.pk)
        _require_draft(rubric)
        target = item or RubricItem(rubric=rubric)
        if item is not None and item.rubric_id != rubric.pk:
            raise ValidationFailed(_("This item belongs to another rubric."))
        before = target.as_snapshot() if item else None
        for name, value in values.items():
            if name in {"points", "cap", "weight"}:
                value = _decimal(value, name)
            if name == "params" and isinstance(value, str):
                try:
                    value = json.loads(value or "{}")
                except ValueError:
                    raise ValidationFailed(
                        _("Parameters are a JSON object."),
                        fields={"params": [_("Parameters are a JSON object.")]},
                    ) from None
            setattr(target, name, value)
        check_item(
            rubric,
            part=target.part,
            source=target.source,
            points=target.points,
            cap=target.cap,
            weight=target.weight,
            params=target.params,
        )
        if (
            RubricItem.objects.filter(rubric=rubric, code=target.code)
            .exclude(pk=target.pk)
            .exists()
        ):
            raise ValidationFailed(
                _("Another item has this code."),
                fields={"code": [_("Another item has this code.")]},
            )
        target.full_clean(exclude=["rubric"])
        target.save()
        audit_record(
            actor=actor,
            action="assessment.rubric_item_save",
            target=rubric,
            organization=rubric.organization,
            role=role,
            before=before,
            after=target.as_snapshot(),
            target_label=f"{rubric} · {target.code}",
        )
    return target


def rubric_item_delete(*, item: RubricItem, actor) -> None:
    rubric = item.rubric
    role = require_assessor(
        actor, rubric.organization, target=rubric, what="rubric_item_delete"
    )
    with transaction.atomic():
        rubric = Rubric.objects.select_for_update().get(pk=rubric.pk)
        _require_draft(rubric)
        before = item.as_snapshot()
        item.delete()
        audit_record(
            actor=actor,
            action="assessment.rubric_item_delete",
            target=rubric,
            organization=rubric.organization,
            role=role,
            before=before,
        )


def rubric_activate(*, rubric: Rubric, actor) -> Rubric:
    """Put a draft in force (after rubric_check); the version in force before it for the
    same organization and year is retired."""
    role = require_assessor(
        actor, rubric.organization, target=rubric, what="rubric_activate"
    )
    with transaction.atomic():
        rubric = Rubric.objects.select_for_update().get(pk=rubric.pk)
        _require_draft(rubric)
        rubric_check(rubric)
        Rubric.objects.filter(
            organization=rubric.organization,
            year=rubric.year,
            status=RubricStatus.ACTIVE,
        ).update(status=RubricStatus.RETIRED)
        rubric.status = RubricStatus.ACTIVE
        rubric.activated_by = actor
        rubric.activated_at = timezone.now()
        rubric.save(update_fields=["status", "activated_by", "activated_at"])
        audit_record(
            actor=actor,
            action="assessment.rubric_activate",
            target=rubric,
            organization=rubric.organization,
            role=role,
            after={
                **_snapshot(rubric),
                "items": [i.as_snapshot() for i in rubric.items.all()],
            },
        )
    return rubric


def rubric_new_version(*, rubric: Rubric, actor) -> Rubric:
    """A draft copy of `rubric` (items included) as the next version."""
    role = require_assessor(
        actor, rubric.organization, target=rubric, what="rubric_new_version"
    )
    with transaction.atomic():
        last = (
            Rubric.objects.select_for_update()
            .filter(organization=rubric.organization, year=rubric.year)
            .order_by("-version")
            .first()
        )
        copy = Rubric(
            organization=rubric.organization,
            org_path=rubric.org_path,
            year=rubric.year,
            version=last.version + 1,
            name=rubric.name,
            pass_mark=rubric.pass_mark,
            bonus_threshold=rubric.bonus_threshold,
            bonus_cap=rubric.bonus_cap,
            engagement_opt_in=rubric.engagement_opt_in,
            engagement_opt_in_reason=rubric.engagement_opt_in_reason,
            based_on=rubric,
            created_by=actor,
        )
        copy.save()
        RubricItem.objects.bulk_create(
            [
                RubricItem(rubric=copy, **{f: getattr(i, f) for f in ITEM_FIELDS})
                for i in rubric.items.all()
            ]
        )
        audit_record(
            actor=actor,
            action="assessment.rubric_new_version",
            target=copy,
            organization=copy.organization,
            role=role,
            after={**_snapshot(copy), "based_on": rubric.pk},
        )
    return copy


# --- manual entries -------------------------------------------------------------------------
def manual_entry_create(
    *,
    item: RubricItem,
    account,
    occurred_on: date,
    evidence: str,
    actor,
    points=None,
    evidence_url: str = "",
) -> ManualEntry:
    """An assessor's finding for a manual item. Points must lie within the item's range
    (0 to its cap); a veto item takes no points. Evidence is required."""
    organization = account.organization
    role = require_assessor(
        actor, organization, target=account, what="manual_entry_create"
    )
    if item.source != MANUAL:
        raise ValidationFailed(
            _("This item is computed from the data; it takes no manual entries."),
            fields={"item": [_("Not a manual item.")]},
        )
    if item.part == Part.VETO:
        value = Decimal("0")
        if points not in (None, "", 0, "0") and _decimal(points, "points") != 0:
            message = _("A veto item takes no points.")
            raise ValidationFailed(
                message, code="points_out_of_range", fields={"points": [message]}
            )
    else:
        if points in (None, ""):
            value = item.points
        else:
            value = _decimal(points, "points")
        if not Decimal("0") < value <= item.cap:
            message = _("Points for “%(item)s” lie between 0 and %(cap)s.") % {
                "item": item.name,
                "cap": item.cap.normalize(),
            }
            raise ValidationFailed(
                message, code="points_out_of_range", fields={"points": [message]}
            )
    if not (evidence or "").strip():
        raise ValidationFailed(
            _("Describe the evidence."),
            fields={"evidence": [_("Describe the evidence.")]},
        )
    if not isinstance(occurred_on, date):
        raise ValidationFailed(
            _("Enter a date."), fields={"occurred_on": [_("Enter a date.")]}
        )
    if occurred_on.year != item.rubric.year:
        message = _("The date lies outside the rubric's year.")
        raise ValidationFailed(message, fields={"occurred_on": [message]})
    with transaction.atomic():
        entry = ManualEntry(
            item=item,
            item_code=item.code,
            account=account,
            org_path=account.org_path,
            occurred_on=occurred_on,
            points=value,
            evidence=evidence.strip(),
            evidence_url=evidence_url or "",
            entered_by=actor,
        )
        entry.full_clean()
        entry.save()
        audit_record(
            actor=actor,
            action="assessment.manual_entry_create",
            target=entry,
            organization=organization,
            role=role,
            after={
                "item": item.code,
                "account": account.pk,
                "points": str(value),
                "occurred_on": occurred_on.isoformat(),
                "evidence": entry.evidence,
            },
        )
    return entry


def manual_entry_withdraw(*, entry: ManualEntry, actor, reason: str) -> ManualEntry:
    organization = entry.account.organization
    role = require_assessor(
        actor, organization, target=entry, what="manual_entry_withdraw"
    )
    if not (reason or "").strip():
        raise ValidationFailed(
            _("Give a reason."), fields={"reason": [_("Give a reason.")]}
        )
    with transaction.atomic():
        entry = ManualEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.withdrawn_at:
            raise Conflict(_("Already withdrawn."))
        entry.withdrawn_at = timezone.now()
        entry.withdrawn_by = actor
        entry.withdrawn_reason = reason.strip()
        entry.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawn_reason"])
        audit_record(
            actor=actor,
            action="assessment.manual_entry_withdraw",
            target=entry,
            organization=organization,
            role=role,
            after={"reason": reason},
        )
    return entry
