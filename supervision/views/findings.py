"""Findings pages: the list (filters, totals, pagination, CSV), one finding with its
evidence and actions, and the supervisor's "run the sweeps now" button."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Organization
from accounts.scoping import Action, get_visible_or_404, scope_for
from common.errors import ApplicationError
from common.exports import csv_stream
from supervision import selectors
from supervision.models import (
    CloseReason,
    Disposition,
    Finding,
    FindingKind,
    FindingStatus,
    Severity,
)
from supervision.services import findings, rectification, sweeps
from supervision.views.common import error, query_without_page, require_business_view


def _filters(request):
    get = request.GET
    kind = get.get("kind", "") if get.get("kind", "") in FindingKind.values else ""
    severity = (
        get.get("severity", "") if get.get("severity", "") in Severity.values else ""
    )
    status = get.get("status", "open")
    status = status if status in (*FindingStatus.values, "") else "open"
    organization = None
    org_id = get.get("organization", "")
    if org_id.isdigit():
        organization = Organization.objects.filter(pk=int(org_id)).first()
        if organization is not None and not scope_for(
            request.user, Action.VIEW
        ).contains(organization):
            organization = None
    account = int(get["account"]) if get.get("account", "").isdigit() else None
    return {
        "kind": kind,
        "severity": severity,
        "status": status,
        "organization": organization,
        "account": account,
    }


@login_required
def finding_list(request):
    require_business_view(request.user)
    filters = _filters(request)
    qs = selectors.findings_list(request.user, **filters)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/finding_list.html",
        {
            "page": page,
            "filters": filters,
            "kinds": FindingKind.choices,
            "severities": Severity.choices,
            "statuses": FindingStatus.choices,
            "query": query_without_page(request),
            "is_supervisor": bool(selectors.supervisor_orgs(request.user)),
        },
    )


@login_required
def finding_export(request):
    require_business_view(request.user)
    if scope_for(request.user, Action.EXPORT).is_empty:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    filters = _filters(request)
    qs = selectors.findings_list(request.user, **filters).filter(
        pk__in=Finding.objects.visible_to(request.user, Action.EXPORT).values("pk")
    )
    rows = qs.values_list(
        "id",
        "kind",
        "severity",
        "status",
        "organization__name",
        "account__display_name",
        "first_seen_at",
        "last_seen_at",
        "closed_at",
    )
    labels_kind, labels_sev = dict(FindingKind.choices), dict(Severity.choices)
    labels_status = dict(FindingStatus.choices)

    def labelled():
        from django.utils import timezone

        for pk, kind, sev, status, org, account, first, last, closed in rows.iterator(
            chunk_size=2000
        ):
            yield [
                pk,
                labels_kind.get(kind, kind),
                labels_sev.get(sev, sev),
                labels_status.get(status, status),
                org,
                account or "",
                timezone.localtime(first).strftime("%Y-%m-%d %H:%M"),
                timezone.localtime(last).strftime("%Y-%m-%d %H:%M"),
                timezone.localtime(closed).strftime("%Y-%m-%d %H:%M") if closed else "",
            ]

    return csv_stream(
        "findings.csv",
        [
            _("ID"),
            _("Kind"),
            _("Severity"),
            _("Status"),
            _("Organization"),
            _("Account"),
            _("First seen"),
            _("Last seen"),
            _("Closed"),
        ],
        labelled(),
    )


@login_required
def finding_detail(request, pk: int):
    finding = get_visible_or_404(
        Finding.objects.select_related(
            "organization", "account__platform", "created_by", "inspection", "repeat_of"
        ),
        request.user,
        pk=pk,
    )
    orders = list(finding.orders.select_related("organization").order_by("-issued_at"))
    can_act = findings.is_supervisor_over(request.user, finding.organization)
    return render(
        request,
        "supervision/finding_detail.html",
        {
            "finding": finding,
            "orders": orders,
            "can_act": can_act,
            "can_order": can_act
            and finding.is_open
            and not any(o.is_open for o in orders),
            "can_dispose": can_act
            and finding.is_open
            and finding.kind
            in (
                FindingKind.COUNTERFEIT,
                FindingKind.UNREGISTERED,
                FindingKind.CANCELLED_POSTING,
            ),
            "dispositions": Disposition.choices,
            "default_days": rectification.policy.rectification_days(),
        },
    )


@login_required
@require_POST
def finding_sweep(request):
    try:
        result = selectors.sweep_now(request.user, sweeps.findings_sweep)
    except ApplicationError as exc:
        error(request, exc)
        return redirect("supervision:finding_list")
    if result.get("skipped"):
        messages.warning(request, _("Another sweep is running; try again in a minute."))
    else:
        opened = sum(v["opened"] for v in result.values())
        closed = sum(v["closed"] for v in result.values())
        messages.success(
            request,
            _("Sweep done: %(opened)d opened, %(closed)d closed.")
            % {"opened": opened, "closed": closed},
        )
    return redirect("supervision:finding_list")


@login_required
@require_POST
def finding_close(request, pk: int):
    finding = get_visible_or_404(
        Finding.objects.select_related("organization"),
        request.user,
        Action.CHANGE,
        pk=pk,
    )
    try:
        findings.finding_close(
            finding=finding,
            actor=request.user,
            reason=request.POST.get("reason", CloseReason.DISMISSED),
            note=request.POST.get("note", ""),
        )
        messages.success(request, _("Finding closed."))
    except ApplicationError as exc:
        error(request, exc)
    return redirect("supervision:finding_detail", pk)


@login_required
@require_POST
def finding_dispose(request, pk: int):
    finding = get_visible_or_404(
        Finding.objects.select_related("organization"),
        request.user,
        Action.CHANGE,
        pk=pk,
    )
    try:
        findings.finding_dispose(
            finding=finding,
            actor=request.user,
            disposition=request.POST.get("disposition", ""),
            note=request.POST.get("note", ""),
        )
        messages.success(request, _("Disposition recorded."))
    except ApplicationError as exc:
        error(request, exc)
    return redirect("supervision:finding_detail", pk)


@login_required
@require_POST
def finding_order(request, pk: int):
    """Issue a rectification order from a finding."""
    finding = get_visible_or_404(
        Finding.objects.select_related("organization"),
        request.user,
        Action.CHANGE,
        pk=pk,
    )
    days = request.POST.get("days", "")
    try:
        order = rectification.order_issue(
            actor=request.user,
            finding=finding,
            requirement=request.POST.get("requirement", ""),
            days=int(days) if days.isdigit() else (-1 if days else None),
        )
    except ApplicationError as exc:
        error(request, exc)
        return redirect("supervision:finding_detail", pk)
    messages.success(
        request, _("Rectification order %(number)s issued.") % {"number": order.number}
    )
    return redirect("supervision:order_detail", order.pk)
