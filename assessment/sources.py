"""Automatic rubric items: pluggable sources keyed by a code.

A source turns the live data of a subtree and a period into *occurrences*: one row per
thing that counts against (or for) an account, each naming the row that caused it.
Every source is one set-based query over the subtree (never a query per account).
A rubric item names its source by code; point values stay in the rubric.

Sources whose data lives in an app that is not installed (or has not built the
model yet) report themselves unavailable: scoring skips them and the run lists them,
so a report never pretends to have checked what it could not (nothing is faked).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.apps import apps
from django.db.models import F, Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MANUAL = "manual"


@dataclass(frozen=True)
class Occurrence:
    account_id: int
    kind: str  # the model label of the row that caused it
    object_id: str
    label: str
    occurred_at: datetime | None
    url: str = ""


@dataclass(frozen=True)
class Period:
    """The scoring window in absolute time: [start, end); `check_at` is the end, or
    now when the period has not ended yet."""

    root_path: str
    start: datetime
    end: datetime

    @property
    def check_at(self) -> datetime:
        return min(self.end, timezone.now())


@dataclass(frozen=True)
class Source:
    code: str
    label: object
    fetch: Callable[[Period, dict], Iterable[Occurrence]]
    # The model it reads ("app_label.Model"); unavailable while it is not installed.
    needs: tuple[str, ...] = ()
    # Counts likes, forwards or logins: refused without the rubric's opt-in (rule 30).
    engagement: bool = False
    params_help: object = ""
    # False for a source whose fetcher is not written yet (its app has not landed).
    built: bool = True

    @property
    def available(self) -> bool:
        if not self.built:
            return False
        for label in self.needs:
            try:
                apps.get_model(label)
            except (LookupError, ValueError):
                return False
        return True


SOURCES: dict[str, Source] = {}


def register_source(source: Source) -> None:
    """Apps above assessment's floor cannot be imported here; a source for their data
    is registered here by model label and reads it through apps.get_model."""
    SOURCES[source.code] = source


def source_label(code: str) -> str:
    if code == MANUAL:
        return str(gettext_lazy("Manual entry with evidence"))
    source = SOURCES.get(code)
    return str(source.label) if source else code


def scored_accounts(root_path: str, end: datetime | None = None):
    """The accounts a run scores: in service below `root_path` and, when `end` is
    given, opened before it (the opening date, else the registry row's creation)."""
    from registry.models import AccountStatus, MediaAccount

    qs = MediaAccount.objects.filter(
        org_path__startswith=root_path,
        status__in=[
            AccountStatus.ACTIVE,
            AccountStatus.RECTIFYING,
            AccountStatus.SUSPENDED,
        ],
    )
    if end is not None:
        qs = qs.filter(
            Q(opened_on__lt=timezone.localtime(end).date())
            | Q(opened_on__isnull=True, created_at__lt=end)
        )
    return qs


def _local_date(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d") if moment else "—"


# --- sources on data that exists today -------------------------------------------------------
def idle_accounts(period: Period, params: dict) -> Iterable[Occurrence]:
    """Accounts with no post in the `days` days before the check time (rule 23, 28).

    The last post is the registry's `last_post_at` when it is before the check time;
    for a past period whose account posted since, the latest collector report before
    the check time stands in, and without one the account is not counted (two
    set-based queries)."""
    from moderation.models import PublishedPost

    days = int(params.get("days", 14))
    check_at = period.check_at
    limit = check_at - timedelta(days=days)
    accounts = scored_accounts(period.root_path, check_at)
    rows = list(
        accounts.filter(
            Q(last_post_at__isnull=True)
            | Q(last_post_at__lt=limit)
            | Q(last_post_at__gt=check_at)
        ).values_list("id", "last_post_at", "created_at", "opened_on", "display_name")
    )
    later = [r[0] for r in rows if r[1] is not None and r[1] > check_at]
    reported = {}
    if later:
        reported = dict(
            PublishedPost.objects.filter(
                account_id__in=later, published_at__lte=check_at
            )
            .values("account_id")
            .annotate(last=Max("published_at"))
            .values_list("account_id", "last")
        )
    tz = timezone.get_default_timezone()
    for account_id, last_post_at, created_at, opened_on, name in rows:
        if last_post_at is not None and last_post_at > check_at:
            # Posted since the check time: only a collector's report can tell when it
            # posted before; without one the idleness is unknown, and nothing unproven
            # counts against an account.
            last = reported.get(account_id)
            if last is None:
                continue
        else:
            last = last_post_at
        opened = (
            timezone.make_aware(datetime.combine(opened_on, time.min), tz)
            if opened_on
            else created_at
        )
        since = last or opened
        if since >= limit:
            continue
        idle = (check_at - since).days
        yield Occurrence(
            account_id,
            "registry.mediaaccount",
            str(account_id),
            _(
                "%(name)s: last post %(last)s, %(days)d days without an update before %(check)s"
            )
            % {
                "name": name,
                "last": _local_date(last),
                "days": idle,
                "check": _local_date(check_at),
            },
            last,
            reverse("registry:account_history", args=[account_id]),
        )


def unapproved_publications(period: Period, params: dict) -> Iterable[Occurrence]:
    """Posts the platform showed without an approved revision (moderation's flags)."""
    from moderation.models import Flag, FlagKind

    rows = Flag.objects.filter(
        kind=FlagKind.UNAPPROVED_PUBLICATION,
        org_path__startswith=period.root_path,
        published_post__published_at__gte=period.start,
        published_post__published_at__lt=period.end,
    ).values_list(
        "id", "published_post__account_id", "message", "published_post__published_at"
    )
    url = reverse("moderation:flag_list") + "?all=1"
    for flag_id, account_id, message, published_at in rows.iterator(chunk_size=5000):
        yield Occurrence(
            account_id,
            "moderation.flag",
            str(flag_id),
            message[:300],
            published_at,
            url,
        )


def late_filings(period: Period, params: dict) -> Iterable[Occurrence]:
    """Filings made after their due date (rule 32)."""
    from registry.models import Filing

    rows = Filing.objects.filter(
        org_path__startswith=period.root_path,
        is_late=True,
        submitted_at__gte=period.start,
        submitted_at__lt=period.end,
    ).values_list("id", "account_id", "number", "kind", "submitted_at", "due_at")
    for filing_id, account_id, number, kind, submitted_at, due_at in rows.iterator(
        chunk_size=5000
    ):
        yield Occurrence(
            account_id,
            "registry.filing",
            str(filing_id),
            _("Filing %(number)s (%(kind)s) filed %(filed)s, due %(due)s")
            % {
                "number": number,
                "kind": kind,
                "filed": _local_date(submitted_at),
                "due": _local_date(due_at),
            },
            submitted_at,
            reverse("registry:filing_detail", args=[filing_id]),
        )


def late_reposts(period: Period, params: dict) -> Iterable[Occurrence]:
    """Repost directive targets confirmed after their deadline, or still open after it
    (rule 15)."""
    from moderation.models import DirectiveTarget

    check_at = period.check_at
    rows = (
        DirectiveTarget.objects.filter(
            org_path__startswith=period.root_path,
            due_at__gte=period.start,
            due_at__lt=period.end,
        )
        .filter(
            Q(confirmed_at__gt=F("due_at"))
            | Q(confirmed_at__isnull=True, due_at__lt=check_at)
        )
        .values_list(
            "id",
            "account_id",
            "directive_id",
            "directive__title",
            "due_at",
            "confirmed_at",
        )
    )
    for (
        target_id,
        account_id,
        directive_id,
        title,
        due_at,
        confirmed_at,
    ) in rows.iterator(chunk_size=5000):
        if confirmed_at:
            label = _("Repost of “%(title)s” due %(due)s, confirmed %(done)s") % {
                "title": title,
                "due": _local_date(due_at),
                "done": _local_date(confirmed_at),
            }
        else:
            label = _("Repost of “%(title)s” due %(due)s, not confirmed") % {
                "title": title,
                "due": _local_date(due_at),
            }
        yield Occurrence(
            account_id,
            "moderation.directivetarget",
            str(target_id),
            label[:300],
            due_at,
            reverse("moderation:directive_detail", args=[directive_id]),
        )


register_source(
    Source(
        "idle_days",
        gettext_lazy("No update for N days before the check time"),
        idle_accounts,
        needs=("registry.MediaAccount",),
        params_help=gettext_lazy('{"days": 14}'),
    )
)
register_source(
    Source(
        "unapproved_publication",
        gettext_lazy("Published without approval"),
        unapproved_publications,
        needs=("moderation.Flag",),
    )
)
register_source(
    Source(
        "late_filing",
        gettext_lazy("Filing after its due date"),
        late_filings,
        needs=("registry.Filing",),
    )
)
register_source(
    Source(
        "late_repost",
        gettext_lazy("Repost directive missed or late"),
        late_reposts,
        needs=("moderation.DirectiveTarget",),
    )
)


# --- the inbox (rules 19-22) -------------------------------------------------------------
def late_replies(period: Period, params: dict) -> Iterable[Occurrence]:
    """Citizen messages to an account whose reply deadline fell in the period and was
    missed: replied after it, or still unanswered at the check time (rules 19, 21)."""
    from inbox.models import Message

    check_at = period.check_at
    rows = (
        Message.objects.filter(
            org_path__startswith=period.root_path,
            account__isnull=False,
            reply_due_at__gte=period.start,
            reply_due_at__lt=period.end,
        )
        .filter(
            Q(replied_on_time=False)
            | Q(replied_at__isnull=True, breached_at__isnull=False, breached_at__lte=check_at)
        )
        .values_list("id", "account_id", "reply_due_at", "replied_at")
    )
    for message_id, account_id, due, replied in rows.iterator(chunk_size=5000):
        if replied:
            label = _("Message #%(id)s due %(due)s, answered %(done)s") % {
                "id": message_id, "due": _local_date(due), "done": _local_date(replied)}
        else:
            label = _("Message #%(id)s due %(due)s, not answered") % {
                "id": message_id, "due": _local_date(due)}
        yield Occurrence(account_id, "inbox.message", str(message_id), label, due,
                         reverse("inbox:message_detail", args=[message_id]))


def unanswered_messages(period: Period, params: dict) -> Iterable[Occurrence]:
    """Valid messages (must-answer) left unanswered for more than three months at the
    check time (rule 22: 留言超过3个月未回复)."""
    from inbox.models import UNANSWERED_STATUSES, Message

    months = int(params.get("days", 90))
    cutoff = period.check_at - timedelta(days=months)
    rows = Message.objects.filter(
        org_path__startswith=period.root_path,
        account__isnull=False,
        must_answer=True,
        status__in=UNANSWERED_STATUSES,
        received_at__lt=cutoff,
    ).values_list("id", "account_id", "received_at")
    for message_id, account_id, received in rows.iterator(chunk_size=5000):
        yield Occurrence(
            account_id, "inbox.message", str(message_id),
            _("Message #%(id)s received %(received)s, unanswered for more than %(n)d days")
            % {"id": message_id, "received": _local_date(received), "n": months},
            received, reverse("inbox:message_detail", args=[message_id]),
        )


def _rate_shortfalls(period: Period, params: dict, *, numerator: Q, denominator: Q,
                     label) -> Iterable[Occurrence]:
    """One occurrence per account whose rate over the messages received in the period
    falls below `min_rate` (a fraction, e.g. 0.9), counted as inbox/metrics.py counts
    it; accounts with fewer than `min_messages` (default 1) in the denominator are
    not judged. One grouped query."""
    from django.db.models import Count

    from inbox.models import Message

    min_rate = float(params.get("min_rate", 0.9))
    min_messages = int(params.get("min_messages", 1))
    rows = (
        Message.objects.filter(
            org_path__startswith=period.root_path,
            account__isnull=False,
            received_at__gte=period.start,
            received_at__lt=period.end,
        )
        .values("account_id")
        .annotate(num=Count("id", filter=numerator), den=Count("id", filter=denominator))
        .filter(den__gte=max(min_messages, 1))
        .order_by("account_id")
    )
    for row in rows.iterator(chunk_size=5000):
        rate = row["num"] / row["den"]
        if rate >= min_rate:
            continue
        yield Occurrence(
            row["account_id"], "registry.mediaaccount", str(row["account_id"]),
            label % {"rate": round(100 * rate, 1), "num": row["num"], "den": row["den"],
                     "min": round(100 * min_rate, 1)},
            period.check_at,
            reverse("registry:account_detail", args=[row["account_id"]]),
        )


def low_resolution_rates(period: Period, params: dict) -> Iterable[Occurrence]:
    """On-time resolution rate (answered messages whose reply was on time, of those
    answered) below `min_rate` (rule 21; the inbox metrics' definition)."""
    return _rate_shortfalls(
        period, params,
        numerator=Q(replied_on_time=True),
        denominator=Q(first_replied_at__isnull=False),
        label=_("On-time resolution rate %(rate)s%% (%(num)s of %(den)s), below %(min)s%%"),
    )


def low_satisfaction_rates(period: Period, params: dict) -> Iterable[Occurrence]:
    """Satisfaction rate (satisfied and basically satisfied, of those rated) below
    `min_rate` (rule 21)."""
    from inbox.models import Satisfaction

    return _rate_shortfalls(
        period, params,
        numerator=Q(satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASIC]),
        denominator=~Q(satisfaction=""),
        label=_("Satisfaction rate %(rate)s%% (%(num)s of %(den)s), below %(min)s%%"),
    )


for _source in (
    Source("low_resolution_rate", gettext_lazy("Resolution rate below the threshold"),
           low_resolution_rates, needs=("inbox.Message",),
           params_help=gettext_lazy('{"min_rate": 0.9, "min_messages": 1}')),
    Source("low_satisfaction", gettext_lazy("Satisfaction rate below the threshold"),
           low_satisfaction_rates, needs=("inbox.Message",),
           params_help=gettext_lazy('{"min_rate": 0.8, "min_messages": 1}')),
):
    register_source(_source)


# --- supervision (rules 27, 28, 34) ----------------------------------------------------------
def open_findings(period: Period, params: dict) -> Iterable[Occurrence]:
    """Findings about an account open at the check time (raised before it, not closed
    by then); `severity` narrows them (e.g. {"severity": "deduction"})."""
    from supervision.models import Finding

    check_at = period.check_at
    rows = Finding.objects.filter(
        org_path__startswith=period.root_path,
        account__isnull=False,
        first_seen_at__lte=check_at,
    ).filter(Q(closed_at__isnull=True) | Q(closed_at__gt=check_at))
    if params.get("severity"):
        rows = rows.filter(severity=params["severity"])
    for finding_id, account_id, kind, first_seen in rows.values_list(
        "id", "account_id", "kind", "first_seen_at"
    ).iterator(chunk_size=5000):
        yield Occurrence(
            account_id, "supervision.finding", str(finding_id),
            _("Finding %(kind)s open since %(since)s") % {
                "kind": kind, "since": _local_date(first_seen)},
            first_seen, reverse("supervision:finding_detail", args=[finding_id]),
        )


def failed_inspections(period: Period, params: dict) -> Iterable[Occurrence]:
    """Accounts that failed an inspection completed in the period (rule 28)."""
    from supervision.models import InspectionItem

    rows = InspectionItem.objects.filter(
        org_path__startswith=period.root_path,
        passed=False,
        inspection__completed_at__gte=period.start,
        inspection__completed_at__lt=period.end,
    ).values_list("id", "account_id", "inspection_id", "inspection__title",
                  "inspection__completed_at")
    for item_id, account_id, inspection_id, title, completed in rows.iterator(chunk_size=5000):
        yield Occurrence(
            account_id, "supervision.inspectionitem", str(item_id),
            _("Failed the inspection “%(title)s” (%(date)s)") % {
                "title": title, "date": _local_date(completed)},
            completed, reverse("supervision:inspection_detail", args=[inspection_id]),
        )


def late_rectifications(period: Period, params: dict) -> Iterable[Occurrence]:
    """Rectification orders due in the period and not carried out in time: marked
    overdue, closed after the due date, or still open past it (rule 34)."""
    from supervision.models import OrderStatus, RectificationOrder

    check_at = period.check_at
    rows = (
        RectificationOrder.objects.filter(
            org_path__startswith=period.root_path,
            account__isnull=False,
            due_at__gte=period.start,
            due_at__lt=period.end,
        )
        .filter(
            Q(overdue_at__isnull=False)
            | Q(closed_at__gt=F("due_at"))
            | (~Q(status=OrderStatus.CLOSED) & Q(due_at__lt=check_at))
        )
        .values_list("id", "account_id", "number", "due_at")
    )
    for order_id, account_id, number, due in rows.iterator(chunk_size=5000):
        yield Occurrence(
            account_id, "supervision.rectificationorder", str(order_id),
            _("Rectification order %(number)s due %(due)s not carried out in time") % {
                "number": number, "due": _local_date(due)},
            due, reverse("supervision:order_detail", args=[order_id]),
        )


for _source in (
    Source("late_reply", gettext_lazy("Citizen message answered late"), late_replies,
           needs=("inbox.Message",)),
    Source("unanswered_message",
           gettext_lazy("Valid citizen message unanswered for 3 months"), unanswered_messages,
           needs=("inbox.Message",), params_help=gettext_lazy('{"days": 90}')),
    Source("open_findings", gettext_lazy("Open findings"), open_findings,
           needs=("supervision.Finding",), params_help=gettext_lazy('{"severity": "deduction"}')),
    Source("inspection_failed", gettext_lazy("Failed inspection"), failed_inspections,
           needs=("supervision.InspectionItem",)),
    Source("rectification_late", gettext_lazy("Rectification order overdue"),
           late_rectifications, needs=("supervision.RectificationOrder",)),
):
    register_source(_source)


# --- engagement (rule 30: only with the rubric's opt-in) --------------------------------------
def _engagement_totals(period: Period, params: dict, *, field: str, label
                       ) -> Iterable[Occurrence]:
    """One occurrence per scored account whose total `field` (likes or reposts) over
    the period's daily metric snapshots is below `below` (a deduction item), or, with
    `at_least`, reaches it (a bonus item). Accounts without any snapshot in the period
    are not judged: nothing unproven counts. One grouped query.

    Engagement: a rubric may name these sources only with its explicit opt-in
    (assessment.services.rubrics, DOMAIN.md rule 30)."""
    from django.db.models import Sum

    from supervision.models import MetricSnapshot

    at_least = params.get("at_least")
    threshold = int(at_least if at_least is not None else params.get("below", 100))
    start = timezone.localtime(period.start).date()
    end = timezone.localtime(period.end - timedelta(microseconds=1)).date()
    rows = (
        MetricSnapshot.objects.filter(
            org_path__startswith=period.root_path,
            day__gte=start,
            day__lte=end,
            account_id__in=scored_accounts(period.root_path, period.check_at).values("pk"),
        )
        .values("account_id", "account__display_name")
        .annotate(total=Sum(field))
        .order_by("account_id")
    )
    rows = rows.filter(total__gte=threshold) if at_least is not None else rows.filter(
        total__lt=threshold)
    for row in rows.iterator(chunk_size=5000):
        yield Occurrence(
            row["account_id"], "registry.mediaaccount", str(row["account_id"]),
            label % {"name": row["account__display_name"], "total": row["total"],
                     "threshold": threshold, "start": start.isoformat(),
                     "end": end.isoformat()},
            period.check_at,
            reverse("registry:account_detail", args=[row["account_id"]]),
        )


def likes_received(period: Period, params: dict) -> Iterable[Occurrence]:
    if params.get("at_least") is not None:
        label = _("%(name)s: %(total)s likes from %(start)s to %(end)s, at least "
                  "%(threshold)s")
    else:
        label = _("%(name)s: %(total)s likes from %(start)s to %(end)s, below "
                  "%(threshold)s")
    return _engagement_totals(period, params, field="likes", label=label)


def forwards_received(period: Period, params: dict) -> Iterable[Occurrence]:
    if params.get("at_least") is not None:
        label = _("%(name)s: %(total)s forwards from %(start)s to %(end)s, at least "
                  "%(threshold)s")
    else:
        label = _("%(name)s: %(total)s forwards from %(start)s to %(end)s, below "
                  "%(threshold)s")
    return _engagement_totals(period, params, field="reposts", label=label)


def _not_built(period: Period, params: dict) -> Iterable[Occurrence]:
    raise NotImplementedError("this source is not built yet")


for _source in (
    Source("likes", gettext_lazy("Likes received"), likes_received,
           needs=("supervision.MetricSnapshot",), engagement=True,
           params_help=gettext_lazy('{"below": 100} or {"at_least": 1000}')),
    Source("forwards", gettext_lazy("Forwards received"), forwards_received,
           needs=("supervision.MetricSnapshot",), engagement=True,
           params_help=gettext_lazy('{"below": 10} or {"at_least": 100}')),
    # Declared (so a rubric can name it) but not built: no data on operator logins
    # is collected. `built=False` keeps it unavailable: scoring skips it and every
    # report lists it as not checked.
    Source("logins", gettext_lazy("Operator logins"), _not_built,
           needs=("supervision.MetricSnapshot",), engagement=True, built=False),
):
    register_source(_source)

ENGAGEMENT_SOURCES = frozenset(code for code, s in SOURCES.items() if s.engagement)
