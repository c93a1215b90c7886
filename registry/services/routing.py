"""Routing filings by level (分级备案, DOMAIN.md rule 1): the supervisors of the
account's supervising organization decide its filings and alone are told of them;
the level above sees a filing only once it is overdue (awaiting approval past its
due date), when it escalates one level up.

The deciding and escalation organizations are fixed on the filing when it is
submitted (`Filing.decider_organization`, `Filing.escalation_organization`): the
supervising organization itself when it has supervisors, else the nearest
organization above it that has (a supervising office's supervisors usually hold
their role at the government above it); the escalation level is the next
organization above that with supervisors.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, Role, User
from accounts.scoping import memberships_of
from audit.services import audit_record_bulk
from notifications.services import notify
from registry.models import Filing, FilingStatus, LeaderSignoff

STEP = Organization.steplen


def _ancestor_paths(path: str) -> list[str]:
    return [path[: i * STEP] for i in range(1, len(path) // STEP + 1)]


def decision_levels_many(
    supervising: list[Organization],
) -> dict[int, tuple[Organization, Organization | None]]:
    """For each supervising organization: (deciding organization, escalation
    organization or None). Two queries for any number of organizations."""
    paths = {p for org in supervising for p in _ancestor_paths(org.path)}
    staffed = set(
        Membership.objects.active()
        .filter(role=Role.SUPERVISOR, organization__path__in=paths, user__is_active=True)
        .values_list("organization__path", flat=True)
    )
    wanted: dict[int, tuple[str, str | None]] = {}
    for org in supervising:
        levels = [p for p in reversed(_ancestor_paths(org.path)) if p in staffed]
        decider = levels[0] if levels else org.path
        wanted[org.pk] = (decider, levels[1] if len(levels) > 1 else None)
    by_path = {
        o.path: o
        for o in Organization.objects.filter(
            path__in={p for pair in wanted.values() for p in pair if p}
        )
    }
    return {
        pk: (by_path.get(decider) or next(o for o in supervising if o.pk == pk),
             by_path.get(escalation) if escalation else None)
        for pk, (decider, escalation) in wanted.items()
    }


def decision_levels(supervising: Organization) -> tuple[Organization, Organization | None]:
    return decision_levels_many([supervising])[supervising.pk]


def is_overdue(filing: Filing, now=None) -> bool:
    return filing.status == FilingStatus.SUBMITTED and filing.due_at < (now or timezone.now())


def _supervised_org_ids(user) -> set[int]:
    return {m.organization_id for m in memberships_of(user) if m.role == Role.SUPERVISOR}


def is_decider(user, filing: Filing, now=None) -> bool:
    """Whether `user` is a supervisor of the filing's deciding organization, or of
    its escalation organization once the filing is overdue."""
    mine = _supervised_org_ids(user)
    if filing.decider_organization_id in mine:
        return True
    return filing.escalation_organization_id in mine and is_overdue(filing, now)


def decider_queue_q(user, now=None) -> Q:
    """Filings awaiting this user's decision: of the organizations where they hold
    the supervisor role, plus overdue filings escalated to them."""
    mine = _supervised_org_ids(user)
    if not mine:
        return Q(pk__in=[])
    return Q(decider_organization_id__in=mine) | Q(
        escalation_organization_id__in=mine, due_at__lt=now or timezone.now()
    )


def supervisors_of_org(org_id: int | None):
    if org_id is None:
        return User.objects.none()
    return User.objects.filter(
        is_active=True,
        pk__in=Membership.objects.active()
        .filter(organization_id=org_id, role=Role.SUPERVISOR)
        .values("user_id"),
    )


def filing_recipients(filing: Filing, now=None):
    """Who is told of the filing: the deciding level; the level above too once it
    is overdue."""
    ids = [filing.decider_organization_id]
    if is_overdue(filing, now):
        ids.append(filing.escalation_organization_id)
    return User.objects.filter(
        is_active=True,
        pk__in=Membership.objects.active()
        .filter(organization_id__in=[i for i in ids if i], role=Role.SUPERVISOR)
        .values("user_id"),
    )


# pg_try_advisory_xact_lock key: one escalation sweep at a time.
ESCALATE_LOCK_KEY = 0x72656731  # "reg1"


def _lock() -> bool:
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ESCALATE_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def filings_escalate_overdue(now=None) -> int:
    """Sweep: stamp every filing awaiting approval past its due date that has an
    escalation level and is not yet escalated (one UPDATE), audit it, and tell the
    supervisors of each escalation organization once (one notification per
    organization per run). Idempotent: a second run finds nothing. Returns the
    number of filings escalated."""
    now = now or timezone.now()
    with transaction.atomic():
        if not _lock():
            return 0
        due = Filing.objects.filter(
            status=FilingStatus.SUBMITTED, due_at__lt=now, escalated_at__isnull=True,
            escalation_organization__isnull=False,
        ).exclude(leader_signoff=LeaderSignoff.PENDING)  # nobody above could decide it yet
        ids = list(due.values_list("pk", flat=True)[:10000])
        if not ids:
            return 0
        Filing.objects.filter(pk__in=ids).update(escalated_at=now)
        rows = list(
            Filing.objects.filter(pk__in=ids).select_related(
                "organization", "escalation_organization"
            )
        )
        audit_record_bulk(
            actor=None,
            action="filing.escalated",
            targets=rows,
            organization_of=lambda f: f.organization,
            after_of=lambda f: {"escalated_to": f.escalation_organization_id,
                                "due_at": f.due_at},
        )
        by_org: dict[int, list[Filing]] = {}
        for f in rows:
            by_org.setdefault(f.escalation_organization_id, []).append(f)
        stamp = now.isoformat()
        for org_id, group in by_org.items():
            notify(
                recipients=list(supervisors_of_org(org_id)),
                organization=group[0].escalation_organization,
                kind="registry.filing_escalated",
                message=_("%(n)s filings below you are overdue for approval and now in your "
                          "queue too.") % {"n": len(group)},
                dedupe_key=f"registry.filing_escalated:{org_id}:{stamp}",
                url=reverse("registry:filing_queue"),
            )
    return len(ids)
