"""Rectification pages: the list (open, overdue in red), one order with its answers
and the actions of whoever may act (answer with evidence; verify and close or send
back; order a suspension; record a summons interview)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.scoping import Action, get_visible_or_404
from common.errors import ApplicationError
from supervision import selectors
from supervision.models import OrderStatus, RectificationOrder
from supervision.services import findings, rectification
from supervision.views.common import (
    error,
    parse_local,
    query_without_page,
    require_business_view,
)


@login_required
def order_list(request):
    require_business_view(request.user)
    status = request.GET.get("status", "open")
    if status not in (*OrderStatus.values, "open", "to_answer", ""):
        status = "open"
    overdue = request.GET.get("overdue") == "1"
    qs = selectors.orders_list(request.user, status=status, overdue=overdue)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/order_list.html",
        {
            "page": page,
            "status": status,
            "overdue": overdue,
            "statuses": OrderStatus.choices,
            "query": query_without_page(request),
            "now": timezone.now(),
        },
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
