"""The inbox's list pages as exports (common/exports.py kinds "inbox_messages",
"inbox_routing", "inbox_slips", "duty"): the same scoping and filters as the pages
(inbox/views.py), personal numbers masked as the pages mask them (inbox/privacy.py).

SECURITY: every builder starts from the page's own selector and then keeps only the
rows the user may export (Action.EXPORT), so another organization's message never
appears; a user who may export nothing gets 404, as a list they cannot see."""

from __future__ import annotations

from itertools import chain

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.scoping import Action, memberships_of, scope_for
from common import exports
from common.errors import NotFound
from common.exports import Column, Table
from inbox import selectors
from inbox.models import Category, Channel, IssueSlip, Message, Satisfaction, Status
from inbox.privacy import mask, may_reveal

MESSAGE_FILTERS = ("status", "channel", "category", "q")


def inbox_view(params) -> str:
    view = params.get("view", "org")
    return view if view in selectors.VIEWS else "org"


def inbox_params(params) -> dict:
    return {key: params.get(key, "") for key in MESSAGE_FILTERS}


def routing_lanes(user):
    """The routing board's lanes (key, label, queryset), as the page shows them."""
    own = {m.organization_id for m in memberships_of(user)}
    base = selectors.messages_for(user).filter(organization_id__in=own)
    return [
        ("new", _("New, not accepted"),
         base.filter(status=Status.NEW, sign_for_due_at__isnull=True)),
        ("sign_for", _("Transferred to us, to sign for"),
         base.filter(sign_for_due_at__isnull=False, signed_for_at__isnull=True)),
        ("breached", _("Breached"),
         base.filter(breached_at__isnull=False, due_at__isnull=False)),
        ("problem", _("Problem cases"), selectors.messages_for(user).filter(
            problem_case_at__isnull=False,
            status__in=[s for s in Status.values if s != Status.RESOLVED])),
    ]


def _exportable(user, qs):
    if scope_for(user, Action.EXPORT).is_empty:
        raise NotFound(_("Not found."))
    return qs.filter(pk__in=Message.objects.visible_to(user, Action.EXPORT).values("pk"))


class _Masker:
    """Masks a message's texts unless the user handles it in its organization; the
    answer is worked out once per organization (no query: the memberships are
    loaded with the scope)."""

    def __init__(self, user):
        self.user = user
        self.reveal: dict[int, bool] = {}

    def __call__(self, organization_id: int, text: str) -> str:
        if organization_id not in self.reveal:
            self.reveal[organization_id] = may_reveal(self.user, organization_id)
        return text if self.reveal[organization_id] else mask(text)


_MESSAGE_FIELDS = ("id", "organization_id", "organization__name", "channel", "status",
                   "category", "citizen_handle", "received_at", "due_at", "breached_at",
                   "replied_at", "satisfaction", "text")


def _message_columns(lane: bool) -> list[Column]:
    return [
        *([Column(_("Lane"), width=24)] if lane else []),
        Column(_("ID"), "number"),
        Column(_("Organization"), width=30),
        Column(_("Channel"), labels=dict(Channel.choices), width=16),
        Column(_("Status"), labels=dict(Status.choices)),
        Column(_("Category"), labels=dict(Category.choices)),
        Column(_("Citizen"), width=20),
        Column(_("Received"), "datetime", width=20),
        Column(_("Due"), "datetime", width=20),
        Column(_("Breached"), "datetime", width=20),
        Column(_("Replied"), "datetime", width=20),
        Column(_("Satisfaction"), labels=dict(Satisfaction.choices)),
        Column(_("Text"), width=60),
    ]


def _message_rows(qs, masker, lane=None):
    for (pk, org_id, org_name, channel, status, category, citizen, received, due,
         breached, replied, satisfaction, text) in qs.values_list(
            *_MESSAGE_FIELDS).iterator(chunk_size=2000):
        row = [pk, org_name, channel, status, category, masker(org_id, citizen),
               received, due, breached, replied, satisfaction, masker(org_id, text)]
        yield [lane, *row] if lane is not None else row


def messages_table(user, params):
    """The handler's inbox with its view and filters (the "inbox_messages" kind)."""
    qs = _exportable(user, selectors.inbox_messages(
        user, view=inbox_view(params), params=inbox_params(params)))
    return Table(
        title=_("Citizen messages"),
        columns=_message_columns(lane=False),
        rows=_message_rows(qs, _Masker(user)),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )


def routing_table(user, params):
    """Every lane of the routing board, whole (the page shows the first 50 of each),
    a message in two lanes listed in each (the "inbox_routing" kind)."""
    lanes = [(str(label), _exportable(user, qs).order_by("due_at", "received_at"))
             for _key, label, qs in routing_lanes(user)]
    masker = _Masker(user)
    return Table(
        title=_("Routing board"),
        columns=_message_columns(lane=True),
        rows=chain.from_iterable(_message_rows(qs, masker, label) for label, qs in lanes),
        count=lambda: sum(qs.order_by().count() for _label, qs in lanes),
        organization=exports.scope_label(user, Action.EXPORT),
    )


def slips_table(user, params):
    """Issue slips sent by or to the user's organizations (the "inbox_slips" kind).
    A slip's texts are masked unless the user handles messages in the issuing or the
    responsible organization (slips are written about citizens' messages)."""
    if scope_for(user, Action.EXPORT).is_empty:
        raise NotFound(_("Not found."))
    # The page's scope (issued by or sent to a visible organization), kept to the
    # organizations the user may export from on either side.
    scope = scope_for(user, Action.EXPORT)
    qs = (IssueSlip.objects.visible_to(user)
          .filter(scope.q("org_path") | scope.q("responsible_path"))
          .order_by("-issued_at", "-id"))
    reveal: dict[tuple[int, int], bool] = {}

    def rows():
        for row in qs.values_list(
                "organization_id", "responsible_organization_id", "title", "kind",
                "importance", "organization__name", "responsible_organization__name",
                "issued_at", "due_at", "overdue_at", "answer", "answered_at",
                "result_published_url").iterator(chunk_size=2000):
            org_id, responsible_id, title, kind, *rest = row
            key = (org_id, responsible_id)
            if key not in reveal:
                reveal[key] = may_reveal(user, org_id) or may_reveal(user, responsible_id)
            show = (lambda text: text) if reveal[key] else mask
            rest[7] = show(rest[7])  # the answer
            yield [show(title), show(kind), *rest]

    return Table(
        title=_("Issue slips"),
        columns=[
            Column(_("Title"), width=40),
            Column(_("Type"), width=16),
            Column(_("Importance"), labels=dict(IssueSlip.Importance.choices)),
            Column(pgettext("organization", "Issued by"), width=30),
            Column(_("Responsible organization"), width=30),
            Column(_("Issued at"), "datetime", width=20),
            Column(_("Due"), "datetime", width=20),
            Column(_("Overdue since"), "datetime", width=20),
            Column(_("Answer"), width=40),
            Column(_("Answered at"), "datetime", width=20),
            Column(_("Result published at"), width=40),
        ],
        rows=rows(),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )


def duty_table(user, params):
    """The duty page's roster as an export (the "duty" kind): the organization and
    fortnight the page shows (selectors.duty_choice, among the organizations the user
    may export from), one row per day that has a duty officer or a duty log, with the
    log's sign-off and notes. At most a fortnight: four reads whatever the people."""
    from django.contrib.postgres.aggregates import StringAgg

    from inbox.models import DutyAssignment, DutyLog
    from workcalendar.calendar import _Window

    _orgs, org, days = selectors.duty_choice(user, params, Action.EXPORT)
    officers = dict(
        DutyAssignment.objects.visible_to(user, Action.EXPORT)
        .filter(organization=org, date__in=days)
        .values("date")
        .annotate(names=StringAgg(exports.person("user"), "、", order_by="id"))
        .values_list("date", "names")
    )
    logs = {
        row[0]: row[1:]
        for row in DutyLog.objects.visible_to(user, Action.EXPORT)
        .filter(organization=org, date__in=days)
        .values_list("date", "signed_off_at", exports.person("signed_off_by"), "notes")
    }
    calendar = _Window(days[0], days[-1], org.region_code)
    lines = []
    for day in days:
        if day not in officers and day not in logs:
            continue
        signed_at, signed_by, notes = logs.get(day, (None, None, None))
        lines.append([day, calendar.is_working(day), officers.get(day, ""),
                      signed_at is not None if day in logs else None, signed_by,
                      signed_at, notes])
    return Table(
        title=_("Duty roster"),
        columns=[
            Column(_("Date"), "date"),
            Column(_("Working day"), "bool"),
            Column(_("Duty officer"), width=30),
            Column(_("Duty log signed off"), "bool"),
            Column(_("Signed off by"), width=16),
            Column(_("Signed off at"), "datetime", width=20),
            Column(_("Notes"), width=40),
        ],
        rows=lines,
        count=lambda: len(lines),
        organization=org.short_name or org.name,
    )
