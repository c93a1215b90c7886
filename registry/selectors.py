"""Scoped reads of the registry. Pages and the API use the same functions."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils import translation

from accounts.models import Membership, Role
from accounts.scoping import Action, memberships_of
from audit.models import AuditEvent
from registry.models import (
    AccountExemption,
    CredentialCustody,
    Filing,
    FilingStatus,
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


CLEANUP_IDLE_DAYS = 90  # DOMAIN.md rule 31: idle longer goes on the clean-up list
CLEANUP_LIST_LENGTH = 20


OVERVIEW_CACHE_SECONDS = 60


def registry_overview(user) -> dict:
    """The registry dashboard of the user's jurisdiction, cached for a minute per
    scope when the jurisdiction is large (common/paging.py's threshold, 10,000
    accounts): a national overview reads every account and filing, a province's
    tens of thousands; users of the same scope share one computation a minute.
    Small jurisdictions are computed on every view (exact at once)."""
    from django.core.cache import cache

    from accounts.scoping import scope_for

    scope = scope_for(user, Action.VIEW)
    key = "overview:" + hashlib.sha1(
        repr((scope.subtree_paths, scope.own_paths, translation.get_language()))
        .encode()
    ).hexdigest()
    hit = cache.get(key)
    if hit is not None:
        return hit
    data = _registry_overview(user)
    if data["total"] >= int(getattr(settings, "COUNT_CACHE_MIN_ROWS", 10_000)):
        cache.set(key, data, OVERVIEW_CACHE_SECONDS)
    return data


def _registry_overview(user) -> dict:
    """The registry dashboard of the user's jurisdiction (what they may view). A
    fixed number of queries whatever the number of accounts: two GROUP BYs, one
    aggregate each over accounts, filings and rotation tasks, and the head of the
    clean-up list."""
    from django.utils import timezone

    from registry.ledger import filing_overdue_q, idle_days_default, idle_q

    now = timezone.now()
    accounts = MediaAccount.objects.visible_to(user, Action.VIEW)
    idle_days = idle_days_default()
    account_totals = accounts.order_by().aggregate(
        idle=Count("pk", filter=idle_q(idle_days)),
        cleanup=Count("pk", filter=idle_q(CLEANUP_IDLE_DAYS)),
        filing_overdue=Count("pk", filter=filing_overdue_q(now)),
    )
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
        accounts.filter(idle_q(CLEANUP_IDLE_DAYS))
        .select_related("platform", "organization")
        .order_by(F("last_post_at").asc(nulls_first=True), "id")[:CLEANUP_LIST_LENGTH]
    )
    by_status = account_counts_by_status(accounts)
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "by_platform": account_counts_by_platform(accounts),
        "idle_days": idle_days,
        "cleanup_days": CLEANUP_IDLE_DAYS,
        "accounts": account_totals,
        "filings": filing_totals,
        "rotations": rotation_totals,
        "cleanup": cleanup,
    }


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
    """Filings awaiting this supervisor's decision, oldest first."""
    paths = supervised_paths(user)
    if not paths:
        return Filing.objects.none()
    cond = Q()
    for p in paths:
        cond |= Q(org_path__startswith=p)
    return (
        filings_visible(user)
        .filter(cond, status=FilingStatus.SUBMITTED)
        .exclude(submitted_by=user)
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
