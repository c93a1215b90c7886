"""Inspection pages: the list with the start form, one inspection with its sample,
the pass rate per platform and level, manual findings and completion."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Organization
from accounts.scoping import Action, get_visible_or_404, scope_for
from common.errors import ApplicationError, ValidationFailed
from registry.models import MediaAccount
from supervision import lists, selectors
from supervision.models import FindingKind, Inspection, InspectionItem, Severity
from supervision.services import findings, inspections
from supervision.views.common import error, require_business_view


def _supervised(user) -> list[Organization]:
    roots = selectors.supervisor_orgs(user)
    return sorted(roots, key=lambda o: o.path)


@login_required
def inspection_list(request):
    require_business_view(request.user)
    qs = lists.inspections(request.user).select_related("organization")
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    can_export = not scope_for(request.user, Action.EXPORT).is_empty
    return render(
        request,
        "supervision/inspection_list.html",
        {
            "page": page,
            "organizations": _supervised(request.user),
            "export_kind": "inspections" if can_export else "",
        },
    )


@login_required
@require_POST
def inspection_start(request):
    post = request.POST
    try:
        org_id = post.get("organization", "")
        org = (
            Organization.objects.filter(pk=int(org_id)).first()
            if org_id.isdigit()
            else None
        )
        if org is None or not scope_for(request.user, Action.VIEW).contains(org):
            raise ValidationFailed(
                _("Choose an organization."), fields={"organization": [_("Required.")]}
            )
        percent, seed = post.get("sample_percent", "100"), post.get("seed", "").strip()
        if not percent.isdigit():
            raise ValidationFailed(
                _("Between 1 and 100."),
                fields={"sample_percent": [_("Between 1 and 100.")]},
            )
        if seed and not seed.isdigit():
            raise ValidationFailed(
                _("A whole number from 0."),
                fields={"seed": [_("A whole number from 0.")]},
            )
        inspection = inspections.inspection_start(
            actor=request.user,
            organization=org,
            title=post.get("title", ""),
            sample_percent=int(percent),
            seed=int(seed) if seed else None,
        )
    except ApplicationError as exc:
        error(request, exc)
        return redirect("supervision:inspection_list")
    messages.success(request, _("Inspection started."))
    return redirect("supervision:inspection_detail", inspection.pk)


@login_required
def inspection_detail(request, pk: int):
    inspection = get_visible_or_404(
        Inspection.objects.select_related("organization"), request.user, pk=pk
    )
    items = (
        InspectionItem.objects.filter(inspection=inspection)
        .select_related("account", "platform", "organization")
        .order_by("id")
    )
    only = request.GET.get("only", "")
    if only == "failed":
        items = items.filter(passed=False)
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/inspection_detail.html",
        {
            "inspection": inspection,
            "page": page,
            "only": only,
            "rates": inspections.pass_rates(inspection),
            "findings": list(
                inspection.findings.select_related("account", "organization")
            ),
            "can_act": findings.is_supervisor_over(
                request.user, inspection.organization
            )
            and inspection.status == "open",
            "kinds": [(k, label) for k, label in FindingKind.choices],
            "severities": Severity.choices,
        },
    )


@login_required
@require_POST
def inspection_complete(request, pk: int):
    inspection = get_visible_or_404(
        Inspection.objects.all(), request.user, Action.CHANGE, pk=pk
    )
    try:
        inspections.inspection_complete(inspection=inspection, actor=request.user)
        messages.success(request, _("Inspection completed."))
    except ApplicationError as exc:
        error(request, exc)
    return redirect("supervision:inspection_detail", pk)


@login_required
@require_POST
def inspection_finding(request, pk: int):
    """An inspector's manual finding about a sampled account, with evidence."""
    inspection = get_visible_or_404(
        Inspection.objects.all(), request.user, Action.CHANGE, pk=pk
    )
    post = request.POST
    try:
        account_id = post.get("account", "")
        account = (
            MediaAccount.objects.visible_to(request.user)
            .filter(pk=int(account_id))
            .first()
            if account_id.isdigit()
            else None
        )
        if account is None:
            raise ValidationFailed(
                _("Choose an account of the sample."),
                fields={"account": [_("Required.")]},
            )
        findings.finding_raise_manual(
            actor=request.user,
            kind=post.get("kind", ""),
            account=account,
            note=post.get("note", ""),
            severity=post.get("severity") or None,
            evidence_url=post.get("evidence_url", "").strip(),
            evidence_file=request.FILES.get("evidence_file"),
            inspection=inspection,
        )
        messages.success(request, _("Finding recorded."))
    except ApplicationError as exc:
        error(request, exc)
    return redirect("supervision:inspection_detail", pk)
