"""Scoped reads of the registry. Pages and the API use the same functions."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils import timezone, translation

from accounts.models import Membership, Organization, Role
from accounts.scoping import Action, memberships_of
from audit.models import AuditEvent
from registry.models import (
    AccountExemption,
    ActivityPolicy,
    CredentialCustody,
    Filing,
    FilingStatus,
    LeaderSignoff,
    MediaAccount,
    Platform,
    RotationTask,
)


def platforms_active():
    return Platform.objects.filter(is_active=True)


def accounts_visible(user, action: Action = Action.VIEW):
    return MediaAccount.objects.visible_to(user, action).select_related(
        "platform", "organization", "supervising_organization"
    )


def account_counts_by_status(queryset) -> dict[str, int]:
    """How many accounts of `queryset` are in each status: one GROUP BY.

    COUNT(*) rather than COUNT(id): PostgreSQL then answers a subtree count from the
    (org_path, status) index alone, without reading table rows (bench/RESULTS.md).
    """
    rows = queryset.order_by().values("status").annotate(n=Count("*")).values_list("status", "n")
    return dict(rows)


def account_counts_by_platform(queryset) -> list[dict]:
    """How many accounts of `queryset` are on each platform (platforms with none are
    left out), in the platforms' order: one GROUP BY."""
    return list(
        queryset.order_by()
        .values("platform_id", "platform__code", "platform__name", "platform__sort_order")
        .annotate(n=Count("*"))
        .order_by("platform__sort_order", "platform__code")
    )


CLEANUP_IDLE_DAYS = 90  # DOMAIN.md rule 31 (national default; see ActivityPolicy)
CLEANUP_LIST_LENGTH = 20


OVERVIEW_CACHE_SECONDS = 60


def registry_overview(user) -> dict:
    """The registry dashboard of the user's jurisdiction.

    A large jurisdiction (at least COUNT_CACHE_MIN_ROWS accounts, common/paging.py's
    threshold) whose scope is whole subtrees reads the roll-up (RegistryFigures: one
    row per root of the scope, kept by a job every few minutes), so the dashboard's
    cost grows with the number of roots, not with accounts or filings (issue 9);
    `as_of` then says when the figures were computed. Otherwise, or when the figures
    are missing or older than REGISTRY_FIGURES_MAX_AGE_SECONDS, the figures are
    counted live: cached for a minute per scope when large, exact at once when
    small."""
    from django.core.cache import cache

    from accounts.scoping import scope_for

    scope = scope_for(user, Action.VIEW)
    rolled = _overview_from_figures(user, scope)
    if rolled is not None:
        return rolled
    key = (
        "overview:"
        + hashlib.sha1(
            repr(
                (scope.subtree_paths, scope.own_paths, translation.get_language())
            ).encode()
        ).hexdigest()
    )
    hit = cache.get(key)
    if hit is not None:
        return hit
    data = _registry_overview(user)
    if data["total"] >= int(getattr(settings, "COUNT_CACHE_MIN_ROWS", 10_000)):
        cache.set(key, data, OVERVIEW_CACHE_SECONDS)
    return data


def _overview_from_figures(user, scope) -> dict | None:
    """The overview summed from the roll-up rows of the scope's roots (one indexed
    query, plus the platforms' names and the head of the clean-up list), or None
    when the roll-up cannot answer for this scope (see registry_overview)."""
    from registry.ledger import idle_q
    from registry.models import RegistryFigures

    if scope.own_paths or not scope.subtree_paths:
        return None
    rows = list(RegistryFigures.objects.filter(path__in=scope.subtree_paths))
    if not rows:
        return None
    as_of = min(r.computed_at for r in rows)
    max_age = int(getattr(settings, "REGISTRY_FIGURES_MAX_AGE_SECONDS", 900))
    if as_of < timezone.now() - timedelta(seconds=max_age):
        return None
    total = sum(r.total for r in rows)
    if total < int(getattr(settings, "COUNT_CACHE_MIN_ROWS", 10_000)):
        return None

    def summed(attr):
        out: dict[str, int] = {}
        for r in rows:
            for k, n in getattr(r, attr).items():
                out[k] = out.get(k, 0) + n
        return out

    per_platform = summed("by_platform")
    platforms = Platform.objects.filter(pk__in=[int(k) for k in per_platform]).order_by(
        "sort_order", "code"
    )
    thresholds = activity_thresholds_of_user(user)
    accounts = MediaAccount.objects.visible_to(user, Action.VIEW)
    cleanup = list(
        accounts.filter(idle_q(kind="cleanup"))
        .select_related("platform", "organization")
        .order_by(F("last_post_at").asc(nulls_first=True), "id")[:CLEANUP_LIST_LENGTH]
    )
    figure = {name: sum(getattr(r, name) for r in rows)
              for name in RegistryFigures.COUNTERS}
    return {
        "total": total,
        "by_status": summed("by_status"),
        "by_platform": [
            {
                "platform_id": p.pk,
                "platform__code": p.code,
                "platform__name": p.name,
                "platform__sort_order": p.sort_order,
                "n": per_platform[str(p.pk)],
            }
            for p in platforms
        ],
        "idle_days": thresholds.idle_days,
        "cleanup_days": thresholds.cleanup_days,
        "accounts": {k: figure[k] for k in ("idle", "cleanup", "filing_overdue")},
        "filings": {
            "pending": figure["filings_pending"],
            "pending_past_due": figure["filings_pending_past_due"],
            "late": figure["filings_late"],
        },
        "rotations": {
            "open": figure["rotations_open"],
            "overdue": figure["rotations_overdue"],
        },
        "cleanup": cleanup,
        "as_of": as_of,
    }


def _registry_overview(user) -> dict:
    """The registry dashboard of the user's jurisdiction (what they may view). A
    fixed number of queries whatever the number of accounts: one GROUP BY over the
    accounts, one aggregate each over filings and rotation tasks, and the head of
    the clean-up list."""
    from django.utils import timezone

    from registry.ledger import filing_overdue_q, idle_q

    now = timezone.now()
    accounts = MediaAccount.objects.visible_to(user, Action.VIEW)
    thresholds = activity_thresholds_of_user(user)
    cleanup_q = idle_q(kind="cleanup")
    # One pass over the accounts for every account figure: counts per status and
    # platform, each with its idle / clean-up / filing-overdue counts, summed here
    # (three passes before: a province's cold dashboard spent 29 of its 44 ms on them).
    groups = list(
        accounts.order_by()
        .values("status", "platform_id", "platform__code", "platform__name",
                "platform__sort_order")
        .annotate(
            n=Count("*"),
            idle=Count("pk", filter=idle_q()),
            cleanup=Count("pk", filter=cleanup_q),
            filing_overdue=Count("pk", filter=filing_overdue_q(now)),
        )
    )
    account_totals = {k: sum(g[k] for g in groups) for k in ("idle", "cleanup", "filing_overdue")}
    by_status: dict[str, int] = {}
    platforms: dict[int, dict] = {}
    for g in groups:
        by_status[g["status"]] = by_status.get(g["status"], 0) + g["n"]
        row = platforms.setdefault(g["platform_id"], {
            "platform_id": g["platform_id"], "platform__code": g["platform__code"],
            "platform__name": g["platform__name"],
            "platform__sort_order": g["platform__sort_order"], "n": 0})
        row["n"] += g["n"]
    by_platform = sorted(platforms.values(),
                         key=lambda r: (r["platform__sort_order"], r["platform__code"]))
    submitted = Q(status=FilingStatus.SUBMITTED)
    filing_totals = (
        Filing.objects.visible_to(user, Action.VIEW)
        .order_by()
        .aggregate(
            pending=Count("pk", filter=submitted),
            pending_past_due=Count("pk", filter=submitted & Q(due_at__lt=now)),
            late=Count("pk", filter=Q(is_late=True)),
        )
    )
    rotation_totals = (
        RotationTask.objects.visible_to(user, Action.VIEW)
        .filter(done_at__isnull=True)
        .order_by()
        .aggregate(open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now)))
    )
    cleanup = list(
        accounts.filter(cleanup_q)
        .select_related("platform", "organization")
        .order_by(F("last_post_at").asc(nulls_first=True), "id")[:CLEANUP_LIST_LENGTH]
    )
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "by_platform": by_platform,
        "idle_days": thresholds.idle_days,
        "cleanup_days": thresholds.cleanup_days,
        "accounts": account_totals,
        "filings": filing_totals,
        "rotations": rotation_totals,
        "cleanup": cleanup,
        "as_of": None,  # counted now
    }


def activity_thresholds_of_user(user) -> ActivityThresholds:
    """The thresholds at the top of the user's jurisdiction (shown on the dashboard;
    the counts apply each account's own policy)."""
    roots = sorted(
        (m.organization for m in memberships_of(user)), key=lambda o: len(o.path)
    )
    return activity_thresholds_for(roots[0]) if roots else activity_defaults()


def account_search(user, *, status="", platform="", text=""):
    qs = accounts_visible(user)
    if status:
        qs = qs.filter(status=status)
    if platform:
        qs = qs.filter(platform__code=platform)
    if text:
        qs = qs.filter(Q(display_name__icontains=text) | Q(platform_account_id__icontains=text))
    return qs.order_by("org_path", "platform__sort_order", "id")


def filings_visible(user, action: Action = Action.VIEW):
    return Filing.objects.visible_to(user, action).select_related(
        "account", "account__platform", "organization", "submitted_by", "decided_by"
    )


def supervised_paths(user) -> list[str]:
    return sorted({m.organization.path for m in memberships_of(user) if m.role == Role.SUPERVISOR})


def filing_queue(user):
    """Filings awaiting this supervisor's decision, oldest first: those of the
    organizations where they hold the supervisor role, and overdue ones escalated
    to them (DOMAIN.md rule 1), never every filing below."""
    from registry.services.routing import decider_queue_q

    return (
        filings_visible(user)
        .filter(decider_queue_q(user), status=FilingStatus.SUBMITTED)
        .exclude(submitted_by=user)
        # awaiting the sponsoring unit's principal leader first (rule 8)
        .exclude(leader_signoff=LeaderSignoff.PENDING)
        .order_by("submitted_at", "id")
    )


def account_history(account: MediaAccount) -> dict:
    """Every filing and audit event of the account (events of the account itself, its
    filings, and its credential custody), newest first, and each filing's before/after
    for people (`changes`, by filing id). Caller checked visibility; the account's
    platform is loaded with it."""
    from registry.changes import describe_changes

    filings = list(
        Filing.objects.filter(account=account)
        .select_related("submitted_by", "decided_by")
        .order_by("-submitted_at", "-id")
    )
    for f in filings:
        f.account = account  # its platform names the `platform` value, no query
    changes = describe_changes(filings)
    filing_ids = [str(f.pk) for f in filings]
    events = list(
        AuditEvent.objects.filter(
            Q(target_type="registry.mediaaccount", target_id=str(account.pk))
            | Q(target_type="registry.filing", target_id__in=filing_ids)
        ).order_by("-occurred_at", "-id")[:500]
    )
    # Events store the role code; pages show its label in the current language.
    role_labels = dict(Role.choices)
    for e in events:
        e.role_label = role_labels.get(e.role, e.role)
    return {"filings": filings, "events": events, "changes": changes}


def eligible_operators(organization):
    """People who may be named as the account's operators."""
    return (
        Membership.objects.active()
        .filter(organization=organization, role__in=[Role.OPERATOR, Role.OUTSOURCED_OPERATOR])
        .select_related("user")
        .order_by("user__username")
    )


def organization_people(organization):
    return (
        Membership.objects.active()
        .filter(organization=organization)
        .select_related("user")
        .order_by("user__username", "role")
    )


def principal_leaders(organization):
    return (
        Membership.objects.active()
        .filter(organization=organization, role=Role.PRINCIPAL_LEADER)
        .select_related("user")
    )


def exemptions_visible(user, action: Action = Action.VIEW):
    return AccountExemption.objects.visible_to(user, action).select_related(
        "organization", "platform", "granted_by"
    )


def custody_visible(user, action: Action = Action.VIEW):
    return CredentialCustody.objects.visible_to(user, action).select_related(
        "account", "account__platform", "account__organization", "holder"
    )


def rotation_tasks_visible(user, action: Action = Action.VIEW):
    return RotationTask.objects.visible_to(user, action).select_related(
        "account", "account__platform", "account__organization", "departed_user", "done_by"
    )


# --- activity: idle and clean-up thresholds (DOMAIN.md rules 23, 31) ------------------
class ActivityThresholds(NamedTuple):
    idle_days: int
    cleanup_days: int


def activity_defaults() -> ActivityThresholds:
    return ActivityThresholds(
        int(settings.REGISTRY_IDLE_DAYS), int(settings.REGISTRY_CLEANUP_DAYS)
    )


def _ancestor_paths(path: str) -> list[str]:
    step = Organization.steplen
    return [path[: i * step] for i in range(1, len(path) // step + 1)]


def activity_thresholds_for(organization) -> ActivityThresholds:
    """The idle and clean-up thresholds that apply to `organization`: the policy of
    the nearest organization at or above it (registry.ActivityPolicy), else the
    national defaults (settings). One query. Other apps (supervision sweeps) read
    the thresholds through this function only."""
    row = (
        ActivityPolicy.objects.filter(organization__path__in=_ancestor_paths(organization.path))
        .order_by("-organization__depth")
        .values_list("idle_days", "cleanup_days")
        .first()
    )
    return ActivityThresholds(*row) if row else activity_defaults()


def activity_policy_paths() -> list[tuple[str, ActivityThresholds]]:
    """Every policy as (organization path, thresholds), deepest first. One query; the
    table holds one row per organization that overrides the defaults."""
    rows = ActivityPolicy.objects.values_list(
        "organization__path", "idle_days", "cleanup_days"
    )
    return sorted(
        ((path, ActivityThresholds(i, c)) for path, i, c in rows),
        key=lambda row: -len(row[0]),
    )


def _silent_since(cutoff) -> Q:
    """No post after `cutoff`; an account that never posted counts from its opening
    date (or, without one, from when it was recorded), never as idle from day one."""
    cutoff_day = timezone.localtime(cutoff).date()
    never = Q(last_post_at__isnull=True)
    return (
        Q(last_post_at__lt=cutoff)
        | (never & Q(opened_on__lt=cutoff_day))
        | (never & Q(opened_on__isnull=True, created_at__lt=cutoff))
    )


def activity_stale_q(
    kind: str = "idle", *, now=None, days: int | None = None, ahead_days: int = 0
) -> Q:
    """Accounts expected to post (active or rectifying) that are idle (`kind="idle"`)
    or due for clean-up (`kind="cleanup"`) under the policy of their sponsoring
    organization (nearest ActivityPolicy up the tree, else the defaults). `days`
    overrides every policy (a filter the user typed); `ahead_days` brings every
    threshold that many days closer (the warning a few days before an account goes
    idle). One query for the policies; the condition is then a plain WHERE over
    `org_path` and the activity columns."""
    from registry.models import AccountStatus

    now = now or timezone.now()
    posting = Q(status__in=(AccountStatus.ACTIVE, AccountStatus.RECTIFYING))
    if days is not None:
        return posting & _silent_since(now - timedelta(days=int(days)))

    def limit(t: ActivityThresholds) -> int:
        return max((t.cleanup_days if kind == "cleanup" else t.idle_days) - ahead_days, 0)

    condition = Q(pk__in=[])
    covered: list[str] = []
    for path, thresholds in activity_policy_paths():
        # Deepest first: a deeper policy wins over this one in its own subtree.
        own = Q(org_path__startswith=path)
        for deeper in covered:
            if deeper.startswith(path):
                own &= ~Q(org_path__startswith=deeper)
        condition |= own & _silent_since(now - timedelta(days=limit(thresholds)))
        covered.append(path)
    rest = _silent_since(now - timedelta(days=limit(activity_defaults())))
    for path in covered:
        rest &= ~Q(org_path__startswith=path)
    return posting & (condition | rest)


def silent_days(account, now=None) -> int:
    """Days since the account's last post, or since it opened when it never posted."""
    now = now or timezone.now()
    if account.last_post_at:
        return (now - account.last_post_at).days
    if account.opened_on:
        return (timezone.localtime(now).date() - account.opened_on).days
    return (now - account.created_at).days if account.created_at else 0
