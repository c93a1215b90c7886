"""Scoped reads of supervision: lists for the pages and the API, and the dashboard
from the roll-ups (a fixed number of queries, whatever the number of rows)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization, Role
from accounts.scoping import Action, memberships_of, scope_for
from audit.services import audit_record
from common.errors import NotFound, PermissionDenied
from supervision.models import (
    ORDER_TO_ANSWER_STATUSES,
    ROLLUP_FIELDS,
    EventStatus,
    Finding,
    Inspection,
    InspectionStatus,
    OpinionEvent,
    OrgDailyStat,
    RectificationOrder,
)
from supervision.services.findings import is_supervisor_over

STEP = Organization.steplen


def supervisor_orgs(user) -> list[Organization]:
    return [m.organization for m in memberships_of(user) if m.role == Role.SUPERVISOR]


def require_supervisor(user) -> Organization:
    """The (highest) organization where the user is a supervisor; 404 for users who
    see no business data, 403 for others."""
    orgs = supervisor_orgs(user)
    if not orgs:
        if scope_for(user, Action.VIEW).is_empty:
            raise NotFound(_("Not found."))
        raise PermissionDenied(
            _("Only supervisors may do this."), code="not_supervisor"
        )
    return min(orgs, key=lambda o: len(o.path))


def sweep_now(user, sweep) -> dict:
    """A supervisor runs the sweeps now ("run now"): audited, then the same job the
    beat runs. Returns its counts."""
    org = require_supervisor(user)
    with transaction.atomic():
        audit_record(
            actor=user,
            action="supervision.findings_sweep",
            target=org,
            organization=org,
            role=Role.SUPERVISOR,
            after={"trigger": "manual"},
        )
    return sweep()


def counterfeit_run(user, organization: Organization, text: str) -> dict:
    from accounts.scoping import Scope
    from registry.counterfeit import check_in_scope, parse_candidates
    from supervision.services.findings import counterfeit_record

    if not is_supervisor_over(user, organization):
        require_supervisor(user)
        raise PermissionDenied(
            _("Only a supervisor above the organization may do this."),
            code="not_supervisor",
        )
    candidates = parse_candidates(text)
    results = [
        r.as_dict()
        for r in check_in_scope(Scope(subtree_paths=(organization.path,)), candidates)
    ]
    opened = counterfeit_record(actor=user, organization=organization, results=results)
    return {
        "checked": len(results),
        "opened": opened,
        "findings": [r for r in results if r["is_finding"]],
    }


def findings_list(
    user, *, kind="", severity="", status="open", organization=None, account=None
):
    qs = Finding.objects.visible_to(user).select_related(
        "organization", "account__platform"
    )
    if kind:
        qs = qs.filter(kind=kind)
    if severity:
        qs = qs.filter(severity=severity)
    if status:
        qs = qs.filter(status=status)
    if organization is not None:
        qs = qs.filter(org_path__startswith=organization.path)
    if account is not None:
        qs = qs.filter(account_id=account)
    return qs.with_last_seen().order_by("-seen_at", "-id")


def orders_list(user, *, status="", overdue=False, organization=None):
    qs = RectificationOrder.objects.visible_to(user).select_related(
        "organization", "account"
    )
    if status == "open":
        qs = qs.exclude(status="closed")
    elif status == "to_answer":
        qs = qs.filter(status__in=ORDER_TO_ANSWER_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.exclude(status="closed").filter(due_at__lt=timezone.now())
    if organization is not None:
        qs = qs.filter(org_path__startswith=organization.path)
    return qs.order_by("-issued_at", "-id")


# --- the dashboard ------------------------------------------------------------------------
def _month_ends(today: date, months: int = 12) -> list[date]:
    """The last day of each of the last `months` months, today for the current one."""
    out, day = [], today
    for _i in range(months):
        out.append(day)
        day = day.replace(day=1) - timedelta(days=1)
    return sorted(out)


def _figures(row: OrgDailyStat | None) -> dict:
    if row is None:
        figures = dict.fromkeys(ROLLUP_FIELDS, 0)
        figures.update(by_platform={}, by_kind={}, computed_at=None)
        return figures
    figures = {name: getattr(row, name) for name in ROLLUP_FIELDS}
    figures.update(
        by_platform=row.by_platform, by_kind=row.by_kind, computed_at=row.computed_at
    )
    return figures


def _sum(rows: list[OrgDailyStat]) -> dict | None:
    """The figures of several subtrees together (a user with several roots)."""
    if not rows:
        return None
    if len(rows) == 1:
        return _figures(rows[0])
    figures = dict.fromkeys(ROLLUP_FIELDS, 0)
    figures.update(
        by_platform={}, by_kind={}, computed_at=min(r.computed_at for r in rows)
    )
    for row in rows:
        for name in ROLLUP_FIELDS:
            figures[name] += getattr(row, name)
        for code, counts in row.by_platform.items():
            per = figures["by_platform"].setdefault(code, {})
            for status, n in counts.items():
                per[status] = per.get(status, 0) + n
        for kind, n in row.by_kind.items():
            figures["by_kind"][kind] = figures["by_kind"].get(kind, 0) + n
    return figures


def dashboard(user, organization_id: int | None = None) -> dict:
    """The figures of an organization's subtree (by default the user's whole scope:
    one subtree, or several summed, e.g. every province for a national office), the
    organizations one level down (or the scope's roots) with the same figures, 12
    months of trend, the last inspection's pass rate and the open events. A fixed
    number of queries (memberships, roots or the organization, breadcrumb, the
    roots' rows over 12 months, children, children's rows, inspection, events),
    whatever the number of accounts, posts and findings."""
    scope = scope_for(user, Action.VIEW)
    if scope.is_empty:
        raise NotFound(_("Not found."))
    if organization_id is not None:
        org = Organization.objects.filter(pk=organization_id).first()
        if org is None or not scope.contains(org):
            raise NotFound(_("Not found."))
        roots = [org]
    else:
        roots = list(
            Organization.objects.filter(path__in=scope.roots()).order_by("path")
        )
        org = roots[0] if len(roots) == 1 else None
    today = timezone.localdate()
    breadcrumb = []
    if org is not None:
        chain = [org.path[:i] for i in range(STEP, len(org.path) + 1, STEP)]
        breadcrumb = [
            o
            for o in Organization.objects.filter(path__in=chain).order_by("depth")
            if scope.contains(o)
        ]
    months = _month_ends(today)
    by_day: dict[date, list[OrgDailyStat]] = {}
    for row in OrgDailyStat.objects.filter(
        path__in=[r.path for r in roots], day__gte=months[0]
    ):
        by_day.setdefault(row.day, []).append(row)
    # The latest day of each month the roll-up ran on (not necessarily its last day).
    trend = []
    for end in months:
        days = [
            d for d in by_day if d <= end and d.replace(day=1) == end.replace(day=1)
        ]
        trend.append(
            {
                "month": end.strftime("%Y-%m"),
                "figures": _sum(by_day[max(days)]) if days else None,
            }
        )
    current_day = today if today in by_day else (max(by_day) if by_day else None)
    current = _sum(by_day[current_day]) if current_day else None
    if org is not None:
        children = list(
            Organization.objects.filter(path__startswith=org.path, depth=org.depth + 1)
            .order_by("path")
            .only("id", "name", "path", "depth", "level", "kind")
        )
        child_rows = {
            r.path: r
            for r in OrgDailyStat.objects.filter(
                path__in=[c.path for c in children], day=current_day or today
            )
        }
    else:
        children = roots
        child_rows = {r.path: r for r in by_day.get(current_day, [])}
    table = [
        {"organization": c, "figures": _figures(child_rows.get(c.path))}
        for c in children
    ]
    under = scope.q("org_path") if org is None else Q(org_path__startswith=org.path)
    last_inspection = (
        Inspection.objects.filter(under, status=InspectionStatus.COMPLETED)
        .order_by("-completed_at")
        .first()
    )
    events = list(
        OpinionEvent.objects.filter(under, status=EventStatus.OPEN)
        .select_related("organization")
        .order_by("-occurred_at")[:5]
    )
    return {
        "organization": org,
        "breadcrumb": breadcrumb,
        "figures": current or _figures(None),
        "day": current_day if current else None,
        "children": table,
        "trend": trend,
        "last_inspection": last_inspection,
        "events": events,
    }


def dashboard_json(data: dict) -> dict:
    def fig(f):
        if f is None:
            return None
        out = {k: v for k, v in f.items() if k != "computed_at"}
        out["computed_at"] = (
            f["computed_at"].isoformat() if f.get("computed_at") else None
        )
        return out

    inspection = data["last_inspection"]
    return {
        "organization": {
            "id": data["organization"].pk,
            "name": data["organization"].name,
        },
        "day": data["day"].isoformat() if data["day"] else None,
        "figures": fig(data["figures"]),
        "children": [
            {
                "organization": {
                    "id": c["organization"].pk,
                    "name": c["organization"].name,
                },
                "figures": fig(c["figures"]),
            }
            for c in data["children"]
        ],
        "trend": [
            {"month": t["month"], "figures": fig(t["figures"])} for t in data["trend"]
        ],
        "last_inspection": None
        if inspection is None
        else {
            "id": inspection.pk,
            "title": inspection.title,
            "pass_rate": inspection.pass_rate,
            "completed_at": inspection.completed_at.isoformat(),
        },
        "open_events": [
            {"id": e.pk, "title": e.title, "level": e.level} for e in data["events"]
        ],
    }
