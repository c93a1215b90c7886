"""Scoped reads of the registry. Pages and the API use the same functions."""

from __future__ import annotations

from django.db.models import Count, Q

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
    filings, and its credential custody), newest first. Caller checked visibility."""
    filings = list(
        Filing.objects.filter(account=account)
        .select_related("submitted_by", "decided_by")
        .order_by("-submitted_at", "-id")
    )
    filing_ids = [str(f.pk) for f in filings]
    events = list(
        AuditEvent.objects.filter(
            Q(target_type="registry.mediaaccount", target_id=str(account.pk))
            | Q(target_type="registry.filing", target_id__in=filing_ids)
        ).order_by("-occurred_at", "-id")[:500]
    )
    return {"filings": filings, "events": events}


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
