"""Pages of the inbox: the handler's inbox, the message page (timeline, reply box,
every step), the liaison's routing board, the supervisor's SLA overview with
drill-down, manual entry, import, and the citizen's rating page. Thin: parse, call
a service or selector, render."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Organization, Role
from accounts.scoping import (
    Action,
    get_visible_or_404,
    memberships_of,
    roles_of,
    scope_for,
)
from common.errors import (
    ApplicationError,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
)
from inbox import metrics, selectors
from inbox.lists import inbox_params, inbox_view, routing_lanes
from inbox.models import (
    Category,
    Channel,
    Message,
    Reply,
    Satisfaction,
    Status,
)
from inbox.privacy import may_reveal, shown
from inbox.services import handling, ingest


def _require_business_view(user) -> None:
    if scope_for(user, Action.VIEW).is_empty:
        raise Http404


class _Masked:
    """A message row as a page shows it: personal numbers masked unless the user
    handles it."""

    def __init__(self, message, reveal: bool):
        self.m = message
        self.text = message.text if reveal else shown(None, message.text, 0)
        self.citizen = message.citizen_handle if reveal else shown(
            None, message.citizen_handle, 0)

    def __getattr__(self, name):
        return getattr(self.m, name)


def _masked_rows(user, rows):
    reveal: dict[int, bool] = {}
    out = []
    for m in rows:
        if m.organization_id not in reveal:
            reveal[m.organization_id] = may_reveal(user, m.organization_id)
        out.append(_Masked(m, reveal[m.organization_id]))
    return out


@login_required
def inbox(request):
    _require_business_view(request.user)
    view, params = inbox_view(request.GET), inbox_params(request.GET)
    qs = selectors.inbox_messages(request.user, view=view, params=params)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    page.object_list = _masked_rows(request.user, page.object_list)
    query = urlencode({"view": view, **{k: v for k, v in params.items() if v}})
    return render(request, "inbox/inbox.html", {
        "page": page, "view": view, "params": params, "query": query,
        "views": [("mine", _("Mine")), ("org", _("My organization")),
                  ("due_soon", _("Due soon")), ("breached", _("Breached")),
                  ("all", _("All"))],
        "statuses": Status.choices, "channels": Channel.choices,
        "categories": Category.choices,
        "can_enter": not scope_for(request.user, Action.CHANGE).is_empty,
        "export_kind": (
            "inbox_messages" if not scope_for(request.user, Action.EXPORT).is_empty
            else ""),
    })


def _transfer_targets(message: Message):
    """Organizations of the supervising organization's tree (nearest levels first),
    for the transfer form."""
    sup = message.supervising_organization
    return list(Organization.objects.filter(path__startswith=sup.path, is_active=True)
                .exclude(pk=message.organization_id).order_by("depth", "path")[:300])


def _act(request, message: Message) -> str | None:
    """Run the step the form names; errors become page messages. Returns the
    success message when it is not the plain "Done."."""
    step, data, user = request.POST.get("step", ""), request.POST, request.user
    reply = None
    if data.get("reply"):
        reply = get_visible_or_404(Reply.objects, user, Action.VIEW, pk=data["reply"],
                                   message=message)
    if step == "classify":
        handling.message_classify(message=message, category=data.get("category", ""),
                                  actor=user)
    elif step == "accept":
        handling.message_accept(message=message, actor=user)
    elif step == "sign_for":
        handling.message_sign_for(message=message, actor=user)
    elif step == "transfer":
        target = Organization.objects.filter(pk=data.get("to_organization") or 0).first()
        if target is None:
            raise ApplicationError(_("Choose the organization to transfer to."),
                                   code="outside_tree")
        handling.message_transfer(message=message, to_organization=target, actor=user,
                                  note=data.get("note", ""))
    elif step == "return":
        handling.message_return(message=message, actor=user, reason=data.get("reason", ""))
    elif step == "pause":
        handling.message_pause(message=message, actor=user, note=data.get("note", ""))
    elif step == "resume":
        handling.message_resume(message=message, actor=user)
    elif step == "extend":
        days = data.get("days", "")
        handling.message_extend(message=message, actor=user,
                                days=int(days) if days.isdigit() else 0,
                                interim_text=data.get("interim_text", ""))
    elif step == "reply":
        handling.reply_submit(message=message, actor=user, text=data.get("text", ""),
                              kind=data.get("kind", Reply.Kind.ANSWER))
    elif step == "approve" and reply:
        handling.reply_approve(reply=reply, actor=user)
    elif step == "reject" and reply:
        handling.reply_reject(reply=reply, actor=user, reason=data.get("reason", ""))
    elif step == "publish" and reply:
        published = handling.reply_publish(reply=reply, actor=user,
                                           route=data.get("route", Reply.Route.PLATFORM))
        if published.send_state == Reply.SendState.QUEUED:
            return _("The reply is being sent through WeChat; the message counts as "
                     "replied once WeChat accepts it.")
    elif step == "rate":
        handling.message_rate(message=message, rating=data.get("rating", ""), actor=user)
    elif step == "resolve":
        handling.message_resolve(message=message, actor=user)
    else:
        raise ApplicationError(_("Unknown step."))


@login_required
@require_http_methods(["GET", "POST"])
def message_detail(request, pk: int):
    user = request.user
    action = Action.CHANGE if request.method == "POST" else Action.VIEW
    message = get_visible_or_404(Message.objects.select_related(
        "organization", "origin_organization", "supervising_organization", "handler",
        "account__platform"), user, action, pk=pk)
    if request.method == "POST":
        try:
            messages.success(request, _act(request, message) or _("Done."))
            return redirect("inbox:message_detail", pk)
        except ApplicationError as exc:
            detail = "; ".join(str(m) for v in exc.fields.values() for m in v)
            messages.error(request, f"{exc.message} {detail}".strip())
    reveal = may_reveal(user, message.organization_id)
    held = roles_of(user, message.organization)
    events = list(message.events.select_related("actor", "from_organization",
                                                "to_organization"))
    replies = list(message.replies.select_related("author", "approved_by"))
    can_change = scope_for(user, Action.CHANGE).contains(message.organization)
    return render(request, "inbox/message_detail.html", {
        "message": message,
        "text": message.text if reveal else shown(None, message.text, 0),
        "original_text": message.original_text if reveal else shown(
            None, message.original_text, 0),
        "citizen": message.citizen_handle if reveal else shown(
            None, message.citizen_handle, 0),
        "events": events, "replies": replies,
        "attachments": list(message.attachments.all()),
        "can_change": can_change,
        "is_approver": bool(held & handling.APPROVER_ROLES),
        "is_liaison": Role.LIAISON in held,
        "categories": Category.choices, "ratings": Satisfaction.choices,
        "routes": Reply.Route.choices, "reply_kinds": Reply.Kind.choices,
        "targets": _transfer_targets(message) if can_change else [],
        "window_warning": handling.wechat_window_warning(message),
        "now": timezone.now(),
        "rating_url": request.build_absolute_uri(
            f"/inbox/rate/{message.rating_token}/"),
    })


@login_required
def routing(request):
    """The liaison's routing board: what waits to be accepted, signed for or routed
    in my organizations, returned transfers, and problem cases."""
    _require_business_view(request.user)
    lanes = routing_lanes(request.user)
    rendered = []
    for key, label, qs in lanes:
        rows = list(qs.select_related("organization", "handler")
                    .order_by("due_at", "received_at")[:50])
        rendered.append({"key": key, "label": label, "rows": _masked_rows(request.user, rows),
                         "total": qs.count()})
    can_export = not scope_for(request.user, Action.EXPORT).is_empty
    return render(request, "inbox/routing.html", {
        "lanes": rendered, "export_kind": "inbox_routing" if can_export else ""})


def _period(request) -> tuple[date, date]:
    today = timezone.localdate()
    try:
        start = date.fromisoformat(request.GET.get("from", ""))
    except ValueError:
        start = today.replace(day=1)
    try:
        end = date.fromisoformat(request.GET.get("to", ""))
    except ValueError:
        end = today
    if end < start:
        start, end = end, start
    return start, min(end, start + timedelta(days=400))


@login_required
def sla_overview(request):
    """The supervisor's overview: the figures of an organization's subtree for a
    period, and each child's, each a link one level down."""
    _require_business_view(request.user)
    scope = scope_for(request.user, Action.VIEW)
    roots = list(Organization.objects.filter(path__in=scope.roots()).order_by("path"))
    if request.GET.get("org", "").isdigit():
        org = Organization.objects.filter(pk=int(request.GET["org"])).first()
        if org is None or not scope.contains(org):
            raise Http404
    elif roots:
        org = roots[0]
    else:
        raise Http404
    start, end = _period(request)
    total = metrics.metrics_for(org, start, end)
    children = metrics.metrics_by_child(org, start, end)
    parent = org.get_parent() if org.depth > 1 else None
    if parent is not None and not scope.contains(parent):
        parent = None
    return render(request, "inbox/sla_overview.html", {
        "org": org, "parent": parent, "total": total, "children": children,
        "start": start, "end": end, "roots": roots,
        "floor": metrics.settings.INBOX_SATISFACTION_FLOOR,
    })


@login_required
@require_http_methods(["GET", "POST"])
def message_new(request):
    """Manual entry (a hotline hand-over, a letter)."""
    orgs = sorted({m.organization for m in memberships_of(request.user)
                   if scope_for(request.user, Action.CHANGE).contains(m.organization)},
                  key=lambda o: o.path)
    if not orgs:
        raise Http404
    values = {"channel": Channel.HOTLINE, "text": "", "citizen": "",
              "organization": str(orgs[0].pk)}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        org = next((o for o in orgs if str(o.pk) == values["organization"]), None)
        try:
            if org is None:
                raise ApplicationError(_("Choose your organization."))
            message = ingest.message_create_manual(
                actor=request.user, organization=org, channel=values["channel"],
                text=values["text"], citizen_handle=values["citizen"][:120])
            messages.success(request, _("Message recorded."))
            return redirect("inbox:message_detail", message.pk)
        except ApplicationError as exc:
            detail = "; ".join(str(m) for v in exc.fields.values() for m in v)
            messages.error(request, f"{exc.message} {detail}".strip())
    return render(request, "inbox/message_new.html", {
        "orgs": orgs, "channels": Channel.choices, "values": values})


@require_http_methods(["GET", "POST"])
def rate(request, token):
    """The citizen's rating link (no sign-in: the link's random token is the key)."""
    message = get_object_or_404(Message.objects.select_related("organization"),
                                rating_token=token)
    done = False
    if request.method == "POST":
        try:
            handling.message_rate(message=message, rating=request.POST.get("rating", ""))
            done = True
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
    reply = message.replies.filter(state=Reply.State.PUBLISHED).exclude(
        kind=Reply.Kind.INTERIM).last()
    return render(request, "inbox/rate.html", {
        "message": message, "reply": reply, "ratings": Satisfaction.choices, "done": done,
        "open": message.status == Status.REPLIED})




def _change_orgs(user) -> list[Organization]:
    scope = scope_for(user, Action.CHANGE)
    return sorted({m.organization for m in memberships_of(user)
                   if scope.contains(m.organization)}, key=lambda o: o.path)


@login_required
@require_http_methods(["GET", "POST"])
def message_import(request):
    """Import from CSV/XLSX: a dry run first (checked in a Celery task, never in
    this request), then the confirmation."""
    from inbox.services import imports

    orgs = _change_orgs(request.user)
    if not orgs:
        raise Http404
    stage = request.POST.get("retry") or request.GET.get("stage") or ""
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("stage"):
                n = imports.import_confirm(user=request.user, stage=request.POST["stage"])
                messages.success(request, _("%(n)d messages imported.") % {"n": n})
                return redirect("inbox:inbox")
            if request.POST.get("retry"):
                imports.import_queue(user=request.user, stage=stage)
            else:
                org = next((o for o in orgs
                            if str(o.pk) == request.POST.get("organization")), orgs[0])
                upload = request.FILES.get("file")
                if upload is None:
                    raise ApplicationError(_("Choose a CSV or XLSX file."))
                stage = imports.import_stage(user=request.user, organization=org,
                                             filename=upload.name,
                                             data=upload.read(imports.MAX_BYTES + 1))
            return redirect(f"{request.path}?{urlencode({'stage': stage})}")
        except ServiceUnavailable as exc:
            # The file is kept: the page offers the retry (stage from the error).
            stage = stage or getattr(exc, "stage", "")
            messages.error(request, exc.message)
            status = exc.status
        except ApplicationError as exc:
            detail = "; ".join(str(m) for v in exc.fields.values() for m in v)
            messages.error(request, f"{exc.message} {detail}".strip())
    staged = imports.import_report(user=request.user, stage=stage) if stage else None
    return render(request, "inbox/import.html", {
        "orgs": orgs, "staged": staged, "report": staged and staged["report"],
        "headers": imports.HEADERS}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def slip_list(request):
    """Issue slips sent by or to my organizations; issue, answer, publish."""
    from inbox.models import IssueSlip
    from inbox.services import slips

    _require_business_view(request.user)
    user = request.user
    if request.method == "POST":
        try:
            step = request.POST.get("step")
            if step == "issue":
                orgs = _change_orgs(user)
                org = next((o for o in orgs if str(o.pk) == request.POST.get("organization")),
                           None)
                target = Organization.objects.filter(
                    pk=request.POST.get("responsible") or 0).first()
                if org is None or target is None:
                    raise ApplicationError(_("Choose the organizations."))
                slips.slip_issue(actor=user, organization=org, responsible=target,
                                 title=request.POST.get("title", ""),
                                 body=request.POST.get("body", ""),
                                 kind=request.POST.get("kind", ""),
                                 importance=request.POST.get("importance", "general"),
                                 due_working_days=int(request.POST.get("days") or 0))
            else:
                slip = get_visible_or_404(IssueSlip.objects, user, Action.VIEW,
                                          pk=request.POST.get("slip") or 0)
                if step == "answer":
                    slips.slip_answer(slip=slip, actor=user,
                                      answer=request.POST.get("answer", ""))
                elif step == "publish":
                    slips.slip_publish(slip=slip, actor=user, url=request.POST.get("url", ""))
            messages.success(request, _("Done."))
            return redirect("inbox:slips")
        except (ApplicationError, ValueError) as exc:
            messages.error(request, str(getattr(exc, "message", exc)))
    qs = IssueSlip.objects.visible_to(user).select_related(
        "organization", "responsible_organization").order_by("-issued_at", "-id")
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    orgs = _change_orgs(user)
    targets = []
    if orgs:
        targets = list(Organization.objects.filter(path__startswith=orgs[0].path)
                       .exclude(pk=orgs[0].pk).order_by("depth", "path")[:300])
    own = {m.organization_id for m in memberships_of(user)}
    return render(request, "inbox/slips.html", {
        "page": page, "orgs": orgs, "targets": targets, "own": own,
        "importances": IssueSlip.Importance.choices, "now": timezone.now(),
        "export_kind": (
            "inbox_slips" if not scope_for(user, Action.EXPORT).is_empty else "")})


@login_required
@require_http_methods(["GET", "POST"])
def duty(request):
    """The duty roster of my organization for two weeks, and a day's duty log."""
    from inbox.models import DutyAssignment, DutyLog
    from inbox.services import slips
    from workcalendar.calendar import _Window

    _require_business_view(request.user)
    try:
        orgs, org, days = selectors.duty_choice(request.user, request.GET)
    except ApplicationError as exc:
        raise Http404 from exc
    day = days[0]
    if request.method == "POST":
        try:
            if request.POST.get("step") == "assign":
                person = org.memberships.filter(user_id=request.POST.get("user") or 0,
                                                is_active=True).first()
                if person is None:
                    raise ApplicationError(_("Choose a person of the organization."))
                slips.duty_assign(actor=request.user, organization=org,
                                  day=date.fromisoformat(request.POST.get("date", "")),
                                  user=person.user)
            else:
                slips.duty_log_save(actor=request.user, organization=org, day=day,
                                    notes=request.POST.get("notes", ""),
                                    sign_off=request.POST.get("step") == "sign_off")
            messages.success(request, _("Done."))
            return redirect(f"{request.path}?org={org.pk}&day={day.isoformat()}")
        except (ApplicationError, ValueError) as exc:
            messages.error(request, str(getattr(exc, "message", exc)))
    calendar = _Window(days[0], days[-1], org.region_code)  # one read for the fortnight
    roster: dict = {d: [] for d in days}
    for row in DutyAssignment.objects.filter(organization=org, date__in=days).select_related(
            "user"):
        roster[row.date].append(row.user)
    log = DutyLog.objects.filter(organization=org, date=day).select_related(
        "signed_off_by").first()
    figures = log.figures if log and log.signed_off_at else slips.duty_figures(org, day)
    people = [m.user for m in org.memberships.filter(is_active=True).select_related("user")]
    return render(request, "inbox/duty.html", {
        "org": org, "orgs": orgs, "day": day, "log": log, "figures": figures,
        "roster": [(d, roster[d], calendar.is_working(d)) for d in days],
        "people": people,
        "can_change": scope_for(request.user, Action.CHANGE).contains(org),
        "export_kind": "duty" if scope_for(request.user, Action.EXPORT).contains(org)
        else ""})


@login_required
def wechat_settings(request):
    """The WeChat accounts of my organizations and their settings: the callback
    URL, and whether replies can be sent through the customer-service API."""
    _require_business_view(request.user)
    rows = list(selectors.wechat_accounts(request.user)[:500])
    changeable = scope_for(request.user, Action.CHANGE)
    return render(request, "inbox/wechat_settings.html", {
        "rows": [(a, getattr(a, "wechat_endpoint", None),
                  changeable.contains(a.organization)) for a in rows],
        "callback_base": request.build_absolute_uri("/inbox/wechat/"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def wechat_settings_edit(request, account_id: int):
    """Edit one account's WeChat settings. SECURITY: the token, EncodingAESKey and
    AppSecret are write-only: the form never shows them; left blank, the stored
    ones stay."""
    from inbox.services import wechat

    account = get_visible_or_404(selectors.wechat_accounts(request.user), request.user,
                                 Action.CHANGE, pk=account_id)
    endpoint = getattr(account, "wechat_endpoint", None)
    values = {"app_id": endpoint.app_id if endpoint else "",
              "mode": endpoint.mode if endpoint else "safe"}
    if request.method == "POST":
        values = {"app_id": request.POST.get("app_id", ""),
                  "mode": request.POST.get("mode", "")}
        try:
            wechat.wechat_endpoint_save(
                actor=request.user, account=account, app_id=values["app_id"],
                mode=values["mode"], token=request.POST.get("token", ""),
                aes_key=request.POST.get("aes_key", ""),
                app_secret=request.POST.get("app_secret", ""),
                remove_app_secret=request.POST.get("remove_app_secret") == "1")
            messages.success(request, _("WeChat settings saved."))
            return redirect("inbox:wechat_settings")
        except ApplicationError as exc:
            detail = "; ".join(str(m) for v in exc.fields.values() for m in v)
            messages.error(request, f"{exc.message} {detail}".strip())
    from inbox.models import WeChatEndpoint

    return render(request, "inbox/wechat_settings_edit.html", {
        "account": account, "endpoint": endpoint, "values": values,
        "modes": WeChatEndpoint.Mode.choices,
        "callback_url": request.build_absolute_uri(
            f"/inbox/wechat/{endpoint.slug}/") if endpoint else "",
    })


# --- collectors ----------------------------------------------------------------------------
COLLECTOR_STEPS = {"deactivate", "reactivate", "rotate"}


def _refused(request, exc: ApplicationError):
    """The platform's pages for a refusal: 404 outside the scope (the same as a
    missing object), 403 for an object seen but not changeable."""
    if isinstance(exc, NotFound):
        raise Http404
    return render(request, "403.html", {"message": exc.message}, status=403)


def _collectors_page(request, *, values=None, errors=None, issued=None, status=200):
    """The collectors page: the scope's collectors with their deliveries of the
    last 7 days by state, the registration form, and the scope's deliveries.
    `issued` is (collector, token) right after a registration or rotation: the
    token is in this response only, never stored or shown again."""
    from inbox.models import RawPayload

    user = request.user
    orgs = _change_orgs(user)
    changeable = scope_for(user, Action.CHANGE)
    rows = list(selectors.collectors_for(user)[:500])
    since = timezone.now() - selectors.COLLECTOR_WINDOW
    counts = selectors.collector_delivery_counts((c.pk for c in rows), since=since)
    states = RawPayload.State.choices
    by_id = {c.pk: c for c in rows}
    state = request.GET.get("state", "")
    if state not in RawPayload.State.values:
        state = ""
    picked = request.GET.get("collector", "")
    picked = int(picked) if picked.isdigit() and int(picked) in by_id else None
    page = Paginator(selectors.collector_deliveries(user, state=state, collector=picked),
                     30).get_page(request.GET.get("page"))
    deliveries = [{"raw": raw, "collector": by_id.get((raw.meta or {}).get("collector")),
                   "count": (raw.meta or {}).get("count")} for raw in page.object_list]
    collect_url = request.build_absolute_uri(reverse("inbox-collect"))
    response = render(request, "inbox/collectors.html", {
        "rows": [{"collector": c, "counts": [(v, counts[c.pk].get(v, 0)) for v, _l in states],
                  "can_change": changeable.contains(c.organization)} for c in rows],
        "states": states, "orgs": orgs, "values": values or {
            "organization": str(orgs[0].pk) if orgs else "", "name": ""},
        "errors": errors or {}, "issued": issued, "page": page, "deliveries": deliveries,
        "state": state, "picked": picked, "collect_url": collect_url,
        "status_url": collect_url + "<payload>/",
    }, status=status)
    if issued:
        # SECURITY: the token is in this page only; no cache may keep it.
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def collectors(request):
    """Platform collectors of my scope: register one (its token is shown once),
    see what each delivered, deactivate, reactivate, rotate the token."""
    user = request.user
    _require_business_view(user)
    if request.method == "GET":
        return _collectors_page(request)
    orgs = _change_orgs(user)
    if not orgs:
        return _refused(request, PermissionDenied(
            _("You may not do this in this organization.")))
    values = {"organization": request.POST.get("organization", ""),
              "name": request.POST.get("name", "")}
    org = next((o for o in orgs if str(o.pk) == values["organization"]), None)
    try:
        if org is None:
            raise ApplicationError(_("Please correct the marked fields."), fields={
                "organization": [_("Choose one of your organizations.")]})
        collector, token = ingest.collector_create(actor=user, organization=org,
                                                   name=values["name"])
    except (NotFound, PermissionDenied) as exc:
        return _refused(request, exc)
    except ApplicationError as exc:
        return _collectors_page(request, values=values, errors=exc.fields, status=400)
    messages.success(request, _("Collector registered."))
    return _collectors_page(request, issued=(collector, token))


@login_required
@require_POST
def collector_step(request, pk: int):
    """Deactivate, reactivate or rotate the token of one collector (POST, `step`).
    Another organization's collector answers 404; one seen but not changeable,
    403."""
    from inbox.models import Collector

    collector = get_visible_or_404(Collector.objects.select_related("organization"),
                                   request.user, Action.VIEW, pk=pk)
    step = request.POST.get("step", "")
    if step not in COLLECTOR_STEPS:
        raise Http404
    try:
        if step == "rotate":
            token = ingest.collector_token_rotate(actor=request.user, collector=collector)
            collector.refresh_from_db()
            messages.success(request, _("New token issued; the old one no longer works."))
            return _collectors_page(request, issued=(collector, token))
        if step == "deactivate":
            ingest.collector_deactivate(actor=request.user, collector=collector)
            messages.success(request, _("Collector deactivated; its token no longer works."))
        else:
            ingest.collector_reactivate(actor=request.user, collector=collector)
            messages.success(request, _("Collector reactivated."))
    except (NotFound, PermissionDenied) as exc:
        return _refused(request, exc)
    return redirect("inbox:collectors")
