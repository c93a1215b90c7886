"""Findings pages: the list (filters, totals, pagination, CSV), one finding with its
evidence and actions, and the supervisor's "run the sweeps now" button."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Organization
from accounts.scoping import Action, get_visible_or_404, scope_for
from common import exports
from common.errors import ApplicationError
from common.exports import Column, Table
from common.listing import PAGE_SIZES, paginate, sort_key
from supervision import selectors
from supervision.models import (
    CloseReason,
    Disposition,
    Finding,
    FindingKind,
    FindingOrigin,
    FindingStatus,
    Severity,
)
from supervision.services import findings, rectification, sweeps
from supervision.views.common import error, query_without_page, require_business_view


def _filters(user, params):
    get = params
    kind = get.get("kind", "") if get.get("kind", "") in FindingKind.values else ""
    severity = (
        get.get("severity", "") if get.get("severity", "") in Severity.values else ""
    )
    status = get.get("status", "open")
    status = status if status in (*FindingStatus.values, "") else "open"
    organization = None
    org_id = str(get.get("organization", ""))
    if org_id.isdigit():
        organization = Organization.objects.filter(pk=int(org_id)).first()
        if organization is not None and not scope_for(user, Action.VIEW).contains(
            organization
        ):
            organization = None
    account = int(get["account"]) if str(get.get("account", "")).isdigit() else None
    return {
        "kind": kind,
        "severity": severity,
        "status": status,
        "organization": organization,
        "account": account,
    }


# Sortable columns (common.listing.sort_key); veto first when sorting by severity.
SORTS = {
    "kind": ("kind", "-id"),
    "severity": ("severity_rank", "-seen_at"),
    "organization": ("org_path", "-id"),
    "first_seen": ("first_seen_at", "id"),
    "last_seen": ("seen_at", "id"),
}
_SEVERITY_RANK = Case(
    When(severity=Severity.VETO, then=Value(0)),
    When(severity=Severity.DEDUCTION, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


@login_required
def finding_list(request):
    require_business_view(request.user)
    filters = _filters(request.user, request.GET)
    sort, order = sort_key(request, SORTS, "-last_seen")
    qs = (
        selectors.findings_list(request.user, **filters)
        .annotate(severity_rank=_SEVERITY_RANK)
        .order_by(*order)
    )
    page = paginate(request, qs)
    return render(
        request,
        "supervision/finding_list.html",
        {
            "page": page,
            "page_sizes": PAGE_SIZES,
            "sort": sort,
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
    """The filtered findings as CSV (default) or XLSX (?file_format=xlsx), through
    the one export writer (common/exports.py, kind "findings")."""
    require_business_view(request.user)
    if scope_for(request.user, Action.EXPORT).is_empty:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    file_format = request.GET.get("file_format", "csv")
    try:
        return exports.respond(request, "findings", request.GET, file_format)
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404 from exc
        error(request, exc)
        return redirect("supervision:finding_list")


def findings_table(user, params):
    """The findings export of `user` (registered as the "findings" export kind)."""
    from common.errors import NotFound

    if scope_for(user, Action.EXPORT).is_empty:
        raise NotFound(_("Not found."))
    qs = selectors.findings_list(user, **_filters(user, params)).filter(
        pk__in=Finding.objects.visible_to(user, Action.EXPORT).values("pk")
    )
    rows = qs.values_list(
        "id",
        "kind",
        "severity",
        "status",
        "organization__name",
        "account__display_name",
        "first_seen_at",
        "seen_at",
        "closed_at",
        "origin",
        "disposition",
    )
    return Table(
        title=_("Findings"),
        columns=[
            Column(_("ID"), "number"),
            Column(_("Kind"), labels=dict(FindingKind.choices), width=20),
            Column(_("Severity"), labels=dict(Severity.choices)),
            Column(_("Status"), labels=dict(FindingStatus.choices)),
            Column(_("Organization"), width=30),
            Column(_("Account"), width=24),
            Column(_("First seen"), "datetime", width=20),
            Column(_("Last seen"), "datetime", width=20),
            Column(_("Closed"), "datetime", width=20),
            # A counterfeit check's findings (origin "check") and what became of
            # the accounts: kind=counterfeit with these two is the check's ledger.
            Column(_("Origin"), labels=dict(FindingOrigin.choices)),
            Column(_("Disposition"), labels=dict(Disposition.choices), width=20),
        ],
        rows=rows.iterator(chunk_size=2000),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
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
