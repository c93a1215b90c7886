"""Public-opinion event pages: the list with the registration form, one event with
its timers (red when overdue) and the buttons that record them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Organization
from accounts.scoping import Action, get_visible_or_404, scope_for
from common.errors import ApplicationError, ValidationFailed
from supervision import lists, selectors
from supervision.models import (
    EmergencyPlan,
    EventLevel,
    Finding,
    FindingKind,
    OpinionEvent,
)
from supervision.services import events, findings
from supervision.views.common import error, parse_local, require_business_view


@login_required
def event_list(request):
    require_business_view(request.user)
    qs = lists.opinion_events(request.user).select_related("organization")
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/event_list.html",
        {
            "page": page,
            "levels": EventLevel.choices,
            "now": timezone.now(),
            "export_kind": (
                "opinion_events"
                if not scope_for(request.user, Action.EXPORT).is_empty
                else ""
            ),
            "organizations": sorted(
                selectors.supervisor_orgs(request.user), key=lambda o: o.path
            ),
            "plans": EmergencyPlan.objects.visible_to(request.user).order_by(
                "event_type"
            )[:50],
        },
    )


@login_required
@require_POST
def event_register(request):
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
        event = events.event_register(
            actor=request.user,
            organization=org,
            title=post.get("title", ""),
            level=post.get("level", ""),
            occurred_at=parse_local(post.get("occurred_at", "")),
            event_type=post.get("event_type", ""),
            description=post.get("description", ""),
        )
    except ApplicationError as exc:
        error(request, exc)
        return redirect("supervision:event_list")
    messages.success(request, _("Event registered; its timers are running."))
    return redirect("supervision:event_detail", event.pk)


@login_required
def event_detail(request, pk: int):
    event = get_visible_or_404(
        OpinionEvent.objects.select_related("organization", "plan"), request.user, pk=pk
    )
    return render(
        request,
        "supervision/event_detail.html",
        {
            "event": event,
            "timers": event.timers(),
            "findings": list(
                Finding.objects.filter(
                    kind=FindingKind.EVENT_SILENCE,
                    subject_ref__in=[
                        event.pk * 4 + n for n in events.TIMER_NUMBER.values()
                    ],
                )
            ),
            "is_supervisor": findings.is_supervisor_over(
                request.user, event.organization
            ),
        },
    )


@login_required
@require_POST
def event_timer(request, pk: int):
    event = get_visible_or_404(
        OpinionEvent.objects.all(), request.user, Action.CHANGE, pk=pk
    )
    try:
        events.event_record_timer(
            event=event,
            actor=request.user,
            timer=request.POST.get("timer", ""),
            at=parse_local(request.POST.get("at", "")),
        )
        messages.success(request, _("Recorded."))
    except ApplicationError as exc:
        error(request, exc)
    return redirect("supervision:event_detail", pk)


@login_required
@require_POST
def event_close(request, pk: int):
    event = get_visible_or_404(
        OpinionEvent.objects.all(), request.user, Action.CHANGE, pk=pk
    )
    try:
        events.event_close(event=event, actor=request.user)
        messages.success(request, _("Event closed."))
    except ApplicationError as exc:
        error(request, exc)
    return redirect("supervision:event_detail", pk)
