"""Rectification pages: the list (open, overdue in red), one order with its answers
and the actions of whoever may act (answer with evidence; verify and close or send
back; order a suspension; record a summons interview)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.scoping import Action, get_visible_or_404, scope_for
from common import exports
from common.errors import ApplicationError
from common.exports import Column, Table
from common.listing import PAGE_SIZES, paginate, sort_key
from supervision import selectors
from supervision.models import OrderStatus, RectificationOrder
from supervision.services import findings, rectification
from supervision.views.common import (
    error,
    parse_local,
    query_without_page,
    require_business_view,
)

# Sortable columns (common.listing.sort_key). By default the earliest deadline first,
# so the overdue orders lead the list.
SORTS = {
    "number": ("number",),
    "organization": ("org_path", "-id"),
    "status": ("status", "due_at"),
    "issued": ("issued_at", "id"),
    "due": ("due_at", "id"),
}


def _order_filters(params) -> dict:
    status = params.get("status", "open")
    if status not in (*OrderStatus.values, "open", "to_answer", ""):
        status = "open"
    return {"status": status, "overdue": params.get("overdue") == "1"}


@login_required
def order_list(request):
    require_business_view(request.user)
    filters = _order_filters(request.GET)
    sort, order = sort_key(request, SORTS, "due")
    qs = selectors.orders_list(request.user, **filters).order_by(*order)
    page = paginate(request, qs)
    return render(
        request,
        "supervision/order_list.html",
        {
            "page": page,
            "page_sizes": PAGE_SIZES,
            "sort": sort,
            **filters,
            "statuses": OrderStatus.choices,
            "query": query_without_page(request),
            "now": timezone.now(),
        },
    )


@login_required
def order_export(request):
    """The filtered orders as XLSX (default) or CSV, through the one export writer
    (common/exports.py, kind "rectification_orders")."""
    require_business_view(request.user)
    try:
        return exports.respond(
            request, "rectification_orders", request.GET,
            request.GET.get("file_format", "xlsx"),
        )
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404 from exc
        error(request, exc)
        return redirect("supervision:order_list")


def orders_table(user, params):
    """The rectification orders export (the "rectification_orders" export kind)."""
    from common.errors import NotFound

    if scope_for(user, Action.EXPORT).is_empty:
        raise NotFound(_("Not found."))
    qs = (
        selectors.orders_list(user, **_order_filters(params))
        .filter(pk__in=RectificationOrder.objects.visible_to(user, Action.EXPORT)
                .values("pk"))
        .order_by("due_at", "id")
    )
    now = timezone.now()
    rows = (
        (o.number, o.organization.name, o.account.display_name if o.account else "",
         o.requirement, o.status, o.issued_at, o.due_at,
         o.is_open and o.due_at < now, o.suspension_ordered, o.closed_at)
        for o in qs.iterator(chunk_size=2000)
    )
    return Table(
        title=_("Rectification orders"),
        columns=[
            Column(_("Number"), width=18),
            Column(_("Sent to"), width=30),
            Column(_("Account"), width=24),
            Column(_("What must be rectified"), width=40),
            Column(_("Status"), labels=dict(OrderStatus.choices), width=16),
            Column(_("Issued at"), "datetime", width=20),
            Column(_("Due at"), "datetime", width=20),
            Column(_("Overdue"), "bool"),
            Column(_("Suspension ordered"), "bool"),
            Column(_("Closed at"), "datetime", width=20),
        ],
        rows=rows,
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )


def _order(request, pk, action=Action.VIEW):
    return get_visible_or_404(
        RectificationOrder.objects.select_related(
            "organization",
            "account__platform",
            "finding",
            "issued_by",
            "issuing_organization",
        ),
        request.user,
        action,
        pk=pk,
    )


@login_required
def order_detail(request, pk: int):
    order = _order(request, pk)
    return render(
        request,
        "supervision/order_detail.html",
        {
            "order": order,
            "answers": list(order.answers.select_related("answered_by")),
            "interviews": list(order.interviews.select_related("recorded_by")),
            "can_answer": rectification.can_answer(request.user, order),
            "can_verify": rectification.can_verify(request.user, order),
            "is_supervisor": findings.is_supervisor_over(
                request.user, order.organization
            ),
            "now": timezone.now(),
        },
    )


def _run(request, pk, fn, success):
    order = _order(request, pk, Action.CHANGE)
    try:
        fn(order)
        messages.success(request, success)
    except ApplicationError as exc:
        error(request, exc)
    return redirect("supervision:order_detail", pk)


@login_required
@require_POST
def order_answer(request, pk: int):
    post = request.POST
    return _run(
        request,
        pk,
        lambda order: rectification.order_answer(
            order=order,
            actor=request.user,
            text=post.get("text", ""),
            evidence_url=post.get("evidence_url", "").strip(),
            evidence_file=request.FILES.get("evidence_file"),
        ),
        _("Answer sent."),
    )


@login_required
@require_POST
def order_close(request, pk: int):
    return _run(
        request,
        pk,
        lambda order: rectification.order_close(
            order=order, actor=request.user, note=request.POST.get("note", "")
        ),
        _("Verified and closed."),
    )


@login_required
@require_POST
def order_send_back(request, pk: int):
    return _run(
        request,
        pk,
        lambda order: rectification.order_send_back(
            order=order, actor=request.user, reason=request.POST.get("reason", "")
        ),
        _("Sent back."),
    )


@login_required
@require_POST
def order_suspend(request, pk: int):
    return _run(
        request,
        pk,
        lambda order: rectification.order_suspension(
            order=order, actor=request.user, reason=request.POST.get("reason", "")
        ),
        _("Suspension ordered."),
    )


@login_required
@require_POST
def order_summons(request, pk: int):
    post = request.POST
    return _run(
        request,
        pk,
        lambda order: rectification.summons_record(
            actor=request.user,
            organization=order.organization,
            held_at=parse_local(post.get("held_at", "")),
            reason=post.get("reason", ""),
            attendees=post.get("attendees", ""),
            outcome=post.get("outcome", ""),
            order=order,
        ),
        _("Summons interview recorded."),
    )
