from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.scoping import Action, Domain, scope_for
from audit import selectors
from audit.forms import AuditFilterForm
from audit.labels import action_label, actor_display
from audit.services import audit_security_event
from common.listing import PAGE_SIZES, paginate, sort_key


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
    sort, order = sort_key(request, {"time": ("id",)}, "-time")
    page = paginate(request, qs.order_by(*order))
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
        {"form": form, "page": page, "query": query.urlencode(), "sort": sort,
         "page_sizes": PAGE_SIZES},
    )


@login_required
def event_export(request):
    """The filtered audit trail (common/exports.py): CSV by default, ?file_format=xlsx;
    above EXPORT_SYNC_MAX_ROWS rows a job."""
    # Reading the trail is itself a security event (issue 8), with its row count.
    _form, qs = _filtered(request, Action.EXPORT)
    # The export is the trail as it stood when asked: without its own read event.
    event = record_trail_read(request, exported=True, rows=qs.count())
    params = request.GET.copy()
    params["before_event"] = str(event.pk)
    from common import exports
    from common.errors import ApplicationError

    file_format = request.GET.get("file_format", "csv")
    try:
        return exports.respond(request, "audit_events", params, file_format)
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404 from exc
        return HttpResponseBadRequest(str(exc.message))


def events_table(user, params):
    """The audit export of `user` (registered as the "audit_events" export kind).
    Filters that do not validate are ignored, as on the list page."""
    from common import exports
    from common.errors import NotFound
    from common.exports import Column, Table

    if scope_for(user, Action.EXPORT, Domain.AUDIT).is_empty:
        raise NotFound(_("Not found."))
    form = AuditFilterForm(params or None)
    qs = selectors.events_visible(user, Action.EXPORT)
    if form.is_bound and form.is_valid():
        qs = selectors.events_filtered(qs, **form.cleaned_data)
    before = str((params or {}).get("before_event", ""))
    if before.isdigit():
        qs = qs.filter(id__lt=int(before))
    rows = (
        (
            e.occurred_at,
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
    columns = [Column(h) for h in header]
    columns[0] = Column(header[0], "datetime", width=20)
    columns[9] = Column(header[9], "json", width=40)
    columns[10] = Column(header[10], "json", width=40)
    return Table(
        title=_("Audit trail"),
        columns=columns,
        rows=rows,
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT, Domain.AUDIT),
    )
