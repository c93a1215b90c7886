"""The supervisor's dashboard: figures of the scope from the roll-up, the
organizations one level down (each drilling down a level), 12-month trends, charts
rendered on the server with their data tables, red for what is overdue."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from common.errors import NotFound
from registry.models import AccountStatus, Platform
from supervision import charts, selectors
from supervision.models import FindingKind, Severity

STATUSES = [
    AccountStatus.ACTIVE,
    AccountStatus.RECTIFYING,
    AccountStatus.SUSPENDED,
    AccountStatus.CANCELLED,
    AccountStatus.PENDING,
]


def _platform_table(by_platform: dict, platforms: list) -> list[dict]:
    rows = []
    for p in platforms:
        counts = by_platform.get(p.code)
        if not counts:
            continue
        rows.append(
            {
                "code": p.code,
                "name": p.name,
                "by_status": [counts.get(s, 0) for s in STATUSES],
                "total": sum(counts.values()),
            }
        )
    return rows


@login_required
def dashboard(request):
    org_id = request.GET.get("organization", "")
    try:
        data = selectors.dashboard(
            request.user, int(org_id) if org_id.isdigit() else None
        )
    except NotFound as exc:
        raise Http404 from exc
    figures = data["figures"]
    platforms = list(Platform.objects.order_by("sort_order", "code"))
    platform_rows = _platform_table(figures["by_platform"], platforms)
    status_labels = [AccountStatus(s).label for s in STATUSES]
    severity_rows = [
        (Severity(s).label, figures[f"findings_{s}"]) for s in Severity.values
    ]
    kind_rows = sorted(
        (
            (FindingKind(k).label, n)
            for k, n in figures["by_kind"].items()
            if k in FindingKind.values
        ),
        key=lambda r: -r[1],
    )
    trend = data["trend"]
    months = [t["month"] for t in trend]

    def series(name):
        return [t["figures"][name] if t["figures"] else None for t in trend]

    trend_series = [
        (_("Idle accounts"), series("idle_now")),
        (_("Open findings"), series("findings_open")),
        (_("Overdue rectification orders"), series("orders_overdue")),
    ]
    context = {
        **data,
        "platform_rows": platform_rows,
        "status_labels": status_labels,
        "severity_rows": severity_rows,
        "kind_rows": kind_rows,
        "trend_rows": [{"month": t["month"], "figures": t["figures"]} for t in trend],
        "chart_platforms": charts.bar(
            _("Accounts by platform and status"),
            [r["name"] for r in platform_rows],
            [
                (label, [r["by_status"][i] for r in platform_rows])
                for i, label in enumerate(status_labels)
            ],
            stacked=True,
        ),
        "chart_severity": charts.bar(
            _("Open findings by severity"),
            [label for label, _n in severity_rows],
            [(_("Open findings"), [n for _l, n in severity_rows])],
        ),
        "chart_trend": charts.line(_("12-month trend"), months, trend_series),
    }
    return render(request, "supervision/dashboard.html", context)
