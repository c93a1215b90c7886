from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.api import csv_stream
from accounts.models import Role
from accounts.scoping import Action, Domain, scope_for
from audit import selectors
from audit.forms import AuditFilterForm
from audit.labels import action_label, actor_display
from audit.services import audit_security_event


def record_trail_read(
    request, *, exported: bool = False, rows: int | None = None, **extra
):
    """The audit trail's own reads are security events (MLPS: audit records are
    protected and their use is itself recorded)."""
    from accounts.services import home_organization

    filters = {k: v for k, v in request.GET.items() if k != "page"}
    after = {"filters": filters, **extra}
    if rows is not None:
        after["rows"] = rows
    return audit_security_event(
        action="audit.trail_exported" if exported else "audit.trail_viewed",
        subject=request.user,
        organization=home_organization(request.user),
        after=after,
    )


def _filtered(request, action):
    if scope_for(request.user, action, Domain.AUDIT).is_empty:
        raise Http404
    form = AuditFilterForm(request.GET or None)
    qs = selectors.events_visible(request.user, action)
    if form.is_bound and form.is_valid():
        qs = selectors.events_filtered(qs, **form.cleaned_data)
    return form, qs


@login_required
def event_list(request):
    form, qs = _filtered(request, Action.VIEW)
    page = Paginator(qs.order_by("-id"), 50).get_page(request.GET.get("page"))
    # Events store the role code; show its label in the current language (no query).
    role_labels = dict(Role.choices)
    for event in page:
        event.role_label = role_labels.get(event.role, event.role)
    query = request.GET.copy()
    query.pop("page", None)
    record_trail_read(request, page=page.number)
    return render(
        request,
        "audit/event_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@login_required
def event_export(request):
    form, qs = _filtered(request, Action.EXPORT)
    # The export is the trail as it stood when asked: without its own read event.
    event = record_trail_read(request, exported=True, rows=qs.count())
    qs = qs.filter(id__lt=event.pk)
    rows = (
        (
            timezone.localtime(e.occurred_at).strftime("%Y-%m-%d %H:%M:%S"),
            actor_display(e),
            e.role,
            e.organization_label,
            e.action,
            action_label(e.action),
            e.target_type,
            e.target_id,
            e.target_label,
            e.before,
            e.after,
            e.ip or "",
            e.hash,
        )
        for e in qs.order_by("id").iterator(chunk_size=2000)
    )
    header = [
        _("Time"),
        _("Actor"),
        _("Role"),
        _("Organization"),
        _("Action"),
        _("Action label"),
        _("Target type"),
        _("Target id"),
        _("Target"),
        _("Before"),
        _("After"),
        _("IP address"),
        _("Hash"),
    ]
    return csv_stream("audit-events.csv", header, rows)
