"""Reads of the inbox: scoped querysets for the pages and the API."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from accounts.scoping import Action, memberships_of, scope_for
from inbox.models import (
    OPEN_STATUSES,
    UNANSWERED_STATUSES,
    WECHAT_PLATFORM_PREFIX,
    Message,
)
from registry.models import MediaAccount

VIEWS = ("mine", "org", "due_soon", "breached", "all")
DUE_SOON = timedelta(hours=24)


def messages_for(user, action: Action = Action.VIEW):
    return Message.objects.visible_to(user, action)


def inbox_messages(user, *, view: str = "org", params=None):
    """The handler's inbox: `mine` (I handle), `org` (my organizations handle),
    `due_soon` (due within 24 hours), `breached`, `all` (everything visible,
    answered too). Filters: status, channel, category, q (text), organization."""
    params = params or {}
    qs = messages_for(user)
    now = timezone.now()
    if view == "mine":
        qs = qs.filter(handler=user, status__in=UNANSWERED_STATUSES)
    elif view == "org":
        # The organizations where the user holds a role that sees business data:
        # inside the scope by definition, so no path filter is needed (the page and
        # its total then read one partial index).
        scope = scope_for(user, Action.VIEW)
        own = {m.organization_id for m in memberships_of(user) if scope.contains(m.organization)}
        qs = Message.objects.filter(organization_id__in=own, status__in=UNANSWERED_STATUSES)
    elif view == "due_soon":
        qs = qs.filter(due_at__isnull=False, due_at__gte=now, due_at__lt=now + DUE_SOON)
    elif view == "breached":
        qs = qs.filter(breached_at__isnull=False, status__in=OPEN_STATUSES)
    if params.get("status"):
        qs = qs.filter(status=params["status"])
    if params.get("channel"):
        qs = qs.filter(channel=params["channel"])
    if params.get("category"):
        qs = qs.filter(Q(category=params["category"]) | Q(
            category="", suggested_category=params["category"]))
    if params.get("q"):
        qs = qs.filter(text__icontains=params["q"][:100])
    if str(params.get("organization", "")).isdigit():
        qs = qs.filter(organization_id=int(params["organization"]))
    order = "due_at" if view in ("due_soon", "breached") else "-received_at"
    return qs.select_related("organization", "handler").order_by(order, "-id")


def wechat_accounts(user, action: Action = Action.VIEW):
    """The WeChat accounts the user sees, with their WeChat settings (one query)."""
    return (MediaAccount.objects.visible_to(user, action)
            .filter(platform__code__startswith=WECHAT_PLATFORM_PREFIX)
            .select_related("platform", "organization", "wechat_endpoint")
            .order_by("org_path", "display_name", "pk"))


DUTY_DAYS = 14  # the roster shows a fortnight from the chosen day


def duty_choice(user, params, action: Action = Action.VIEW):
    """The duty page's organization and fortnight (and its export's): one of the
    organizations the user belongs to (`org`, else the first by path) that `action`
    reaches, and the days from `day` (else today). Returns (organizations, chosen,
    days); raises NotFound when the user belongs to none."""
    from datetime import date

    from django.utils.translation import gettext as _

    from common.errors import NotFound

    scope = scope_for(user, action)
    orgs = sorted({m.organization for m in memberships_of(user)
                   if scope.contains(m.organization)}, key=lambda o: o.path)
    if not orgs:
        raise NotFound(_("Not found."))
    org = next((o for o in orgs if str(o.pk) == params.get("org")), orgs[0])
    try:
        day = date.fromisoformat(params.get("day", ""))
    except ValueError:
        day = timezone.localdate()
    return orgs, org, [day + timedelta(days=n) for n in range(DUTY_DAYS)]


# --- collectors -------------------------------------------------------------------------
COLLECTOR_WINDOW = timedelta(days=7)


def collectors_for(user, action: Action = Action.VIEW):
    """The collectors of the user's scope with their organization: active first,
    then by organization, newest first."""
    from inbox.models import Collector

    return (Collector.objects.visible_to(user, action).select_related("organization")
            .order_by("-is_active", "organization__path", "-created_at", "-pk"))


def collector_delivery_counts(collector_ids, *, since) -> dict[int, dict[str, int]]:
    """Deliveries per collector and state since `since`: one grouped query for
    the whole page however many collectors (the collector is named in the
    delivery's meta: the hot path stores no foreign key)."""
    from django.db.models import Count

    from inbox.models import RawPayload, Source

    ids = list(collector_ids)
    counts: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    if not ids:
        return counts
    rows = (RawPayload.objects.filter(source=Source.COLLECTOR, received_at__gte=since,
                                      meta__collector__in=ids)
            .values("meta__collector", "state").annotate(n=Count("pk")).order_by())
    for row in rows:
        pk = row["meta__collector"]
        if pk in counts:
            counts[pk][row["state"]] = row["n"]
    return counts


def collector_deliveries(user, *, state: str = "", collector: int | None = None):
    """The scope's collector deliveries, newest first. SECURITY: the body is
    deferred and must never be shown: it is what the platform sent, personal
    data included (reading it is the liaison's audited raw-payload read)."""
    from inbox.models import RawPayload, Source

    qs = (RawPayload.objects.visible_to(user).filter(source=Source.COLLECTOR)
          .only("pk", "state", "error", "meta", "received_at", "organization_id")
          .order_by("-received_at", "-pk"))
    if state:
        qs = qs.filter(state=state)
    if collector is not None:
        qs = qs.filter(meta__collector=collector)
    return qs
