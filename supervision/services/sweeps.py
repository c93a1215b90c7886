"""The daily sweeps: one detector per automatic finding kind, each a queryset of
what is wrong *now*, reconciled with the open findings in three set-based statements
(supervision.services.findings.reconcile). Safe to run twice: the second run
refreshes `last_seen_at` and opens nothing (the partial unique index guarantees it
even under a race), and notices are keyed by the batch.

Kinds from data that exists today: idle (and its warning and clean-up list),
cancelled accounts posting again, staffing below minimum, unverified accounts,
overdue reposts, unapproved publications (moderation's flags), required
organizations without an account, and public-opinion event timers (events.py).
Counterfeit and unregistered accounts come from the counterfeit check (recorded by
a supervisor, findings.counterfeit_record), follower jumps from metric ingestion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Level, Organization, OrgKind
from moderation.models import DirectiveTarget, Flag
from registry.models import (
    AccountStatus,
    Filing,
    FilingKind,
    FilingStatus,
    MediaAccount,
)
from supervision.models import FindingKind
from supervision.policy import idle_policy
from supervision.services import events
from supervision.services.findings import reconcile

LIVE = (AccountStatus.ACTIVE, AccountStatus.RECTIFYING)
ACCOUNT_VALUES = ("ref", "account_id", "organization_id", "org_path")


def _accounts(**filters) -> QuerySet:
    return MediaAccount.objects.filter(**filters).annotate(
        ref=F("id"), account_id=F("id")
    )


def _last_activity():
    """An account's last post, or when it was recorded if it never posted."""
    return Coalesce("last_post_at", "created_at")


def _days(value, now) -> int | None:
    return (now - value).days if value else None


def idle_seen(now: datetime, kind: str = "idle", *, warn_ahead: int = 0) -> QuerySet:
    """Live accounts idle (`kind="idle"`) or due for the clean-up list
    (`kind="cleanup"`) under their organization's activity policy (registry
    ActivityPolicy, inherited down the tree, else the national defaults; an account
    that never posted counts from its opening date). With `warn_ahead`, those that
    will be idle within that many days but are not yet. Suspended, cancelled and
    pending accounts are never idle."""
    from registry.selectors import activity_stale_q

    qs = _accounts().filter(activity_stale_q(kind, now=now, ahead_days=warn_ahead))
    if warn_ahead:
        qs = qs.exclude(activity_stale_q(kind, now=now))
    return qs.annotate(last=_last_activity()).values(
        *ACCOUNT_VALUES, "last_post_at", "opened_on", "last"
    )


def _idle_evidence(now):
    def evidence(row):
        if row["last_post_at"] or not row.get("opened_on"):
            days = _days(row["last"], now)
        else:
            days = (timezone.localtime(now).date() - row["opened_on"]).days
        return {
            "last_post_at": row["last_post_at"].isoformat()
            if row["last_post_at"]
            else None,
            "idle_days": days,
        }

    return evidence


def cancelled_posting_seen(now: datetime) -> QuerySet:
    cancelled_at = (
        Filing.objects.filter(
            account=OuterRef("pk"),
            kind=FilingKind.CANCEL,
            status=FilingStatus.APPROVED,
        )
        .order_by("-decided_at")
        .values("decided_at")[:1]
    )
    return (
        _accounts(status=AccountStatus.CANCELLED, last_post_at__isnull=False)
        .annotate(cancelled_at=Subquery(cancelled_at))
        .filter(last_post_at__gt=F("cancelled_at"))
        .values(*ACCOUNT_VALUES, "last_post_at", "cancelled_at")
    )


def staffing_seen(now: datetime) -> QuerySet:
    minimum = Case(
        *[
            When(organization__level=level, then=Value(int(n)))
            for level, n in settings.REGISTRY_MIN_OPERATORS.items()
        ],
        default=Value(1),
        output_field=IntegerField(),
    )
    return (
        _accounts(status__in=LIVE)
        .annotate(n=Count("operators"), minimum=minimum)
        .filter(n__lt=F("minimum"))
        .values(*ACCOUNT_VALUES, "n", "minimum")
    )


def unverified_seen(now: datetime) -> QuerySet:
    return (
        _accounts(status__in=LIVE)
        .exclude(verification="verified")
        .values(*ACCOUNT_VALUES, "verification")
    )


def reposts_overdue_seen(now: datetime) -> QuerySet:
    return (
        DirectiveTarget.objects.filter(
            overdue_at__isnull=False, confirmed_at__isnull=True
        )
        .annotate(ref=F("id"))
        .values(
            "ref",
            "account_id",
            "organization_id",
            "org_path",
            "directive_id",
            "directive__title",
            "due_at",
        )
    )


def unapproved_seen(now: datetime) -> QuerySet:
    return (
        Flag.objects.filter(resolved_at__isnull=True)
        .annotate(ref=F("id"), account_id=F("published_post__account_id"))
        .values(
            "ref",
            "account_id",
            "organization_id",
            "org_path",
            "kind",
            "published_post__url",
            "published_post__published_at",
        )
    )


def sla_breach_seen(now: datetime) -> QuerySet:
    """Citizen messages past their reply deadline and still unanswered (the inbox
    marks `breached_at`; rules 19, 21): one finding per message, closed once it is
    answered."""
    from inbox.models import UNANSWERED_STATUSES, Message

    return (
        Message.objects.filter(breached_at__isnull=False, status__in=UNANSWERED_STATUSES)
        .annotate(ref=F("id"))
        .values("ref", "account_id", "organization_id", "org_path", "reply_due_at",
                "received_at")
    )


UNANSWERED_DAYS = 90  # DOMAIN.md rule 22 (留言超过3个月未回复)


def unanswered_3m_seen(now: datetime) -> QuerySet:
    """Valid (must-answer) messages unanswered for more than three months."""
    from inbox.models import UNANSWERED_STATUSES, Message

    return (
        Message.objects.filter(
            must_answer=True,
            status__in=UNANSWERED_STATUSES,
            received_at__lt=now - timedelta(days=UNANSWERED_DAYS),
        )
        .annotate(ref=F("id"))
        .values("ref", "account_id", "organization_id", "org_path", "received_at")
    )


def _message_evidence(now):
    return lambda r: {
        "message": r["ref"],
        "received_at": _iso(r["received_at"]),
        **({"reply_due_at": _iso(r["reply_due_at"])} if "reply_due_at" in r else {}),
    }


REQUIRED_LEVELS = (Level.PROVINCE, Level.CITY, Level.COUNTY)


def missing_account_seen(now: datetime) -> QuerySet:
    """People's governments at county level and above without a live account of
    their own or of a supervising office directly under them (DOMAIN.md rule 36)."""
    own = MediaAccount.objects.filter(
        status__in=LIVE,
        organization__kind__in=[OrgKind.GOVERNMENT, OrgKind.SUPERVISING_OFFICE],
        org_path__startswith=OuterRef("path"),
        organization__depth__lte=OuterRef("depth") + 1,
    )
    return (
        Organization.objects.filter(
            kind=OrgKind.GOVERNMENT, level__in=REQUIRED_LEVELS, is_active=True
        )
        .filter(~Exists(own))
        .annotate(
            ref=F("id"),
            organization_id=F("id"),
            org_path=F("path"),
            account_id=Value(None, output_field=IntegerField()),
        )
        .values("ref", "organization_id", "org_path", "account_id")
    )


@dataclass(frozen=True)
class Detector:
    kind: str
    seen: Callable[[datetime], QuerySet]
    evidence: Callable[[datetime], Callable[[dict], dict]]


def _iso(value):
    return value.isoformat() if value else None


def detectors() -> list[Detector]:
    policy = idle_policy()
    return [
        Detector(
            FindingKind.IDLE_CLEANUP,
            lambda now: idle_seen(now, "cleanup"),
            _idle_evidence,
        ),
        Detector(
            FindingKind.IDLE,
            lambda now: idle_seen(now, "idle"),
            _idle_evidence,
        ),
        Detector(
            FindingKind.IDLE_WARNING,
            lambda now: idle_seen(now, "idle", warn_ahead=policy.warn_ahead_days),
            _idle_evidence,
        ),
        Detector(
            FindingKind.CANCELLED_POSTING,
            cancelled_posting_seen,
            lambda now: lambda r: {
                "last_post_at": _iso(r["last_post_at"]),
                "cancelled_at": _iso(r["cancelled_at"]),
            },
        ),
        Detector(
            FindingKind.STAFFING,
            staffing_seen,
            lambda now: lambda r: {"operators": r["n"], "minimum": r["minimum"]},
        ),
        Detector(
            FindingKind.UNVERIFIED,
            unverified_seen,
            lambda now: lambda r: {"verification": r["verification"]},
        ),
        Detector(
            FindingKind.REPOST_OVERDUE,
            reposts_overdue_seen,
            lambda now: lambda r: {
                "directive": r["directive_id"],
                "title": r["directive__title"],
                "due_at": _iso(r["due_at"]),
            },
        ),
        Detector(
            FindingKind.UNAPPROVED_PUBLICATION,
            unapproved_seen,
            lambda now: lambda r: {
                "flag": r["ref"],
                "flag_kind": r["kind"],
                "url": r["published_post__url"],
                "published_at": _iso(r["published_post__published_at"]),
            },
        ),
        Detector(FindingKind.SLA_BREACH, sla_breach_seen, _message_evidence),
        Detector(FindingKind.UNANSWERED_3M, unanswered_3m_seen, _message_evidence),
        Detector(
            FindingKind.MISSING_ACCOUNT, missing_account_seen, lambda now: lambda r: {}
        ),
    ]


# pg_try_advisory_xact_lock key: one findings sweep at a time (released at commit).
SWEEP_LOCK_KEY = 0x73757031  # "sup1"


def _sweep_lock() -> bool:
    """Caller is inside a transaction. SQLite serializes writers by itself;
    PostgreSQL takes an advisory lock, so a second run waits its turn by skipping."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SWEEP_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def findings_sweep(now: datetime | None = None, kinds: list[str] | None = None) -> dict:
    """Run every detector (or those of `kinds`) under the sweep lock, in one
    transaction. Returns {kind: {opened, refreshed, closed}} or {"skipped": True}
    when another sweep holds the lock. The roll-up follows after commit."""
    now = now or timezone.now()
    result: dict = {}
    with transaction.atomic():
        if not _sweep_lock():
            return {"skipped": True}
        for detector in detectors():
            if kinds and detector.kind not in kinds:
                continue
            result[detector.kind] = reconcile(
                kind=detector.kind,
                seen=detector.seen(now),
                now=now,
                evidence=detector.evidence(now),
            )
        if not kinds or FindingKind.EVENT_SILENCE in kinds:
            result[FindingKind.EVENT_SILENCE] = events.silence_sweep(now)
        # The roll-up (the whole tree) only when the run changed something: the
        # 5-minute event-timer run usually changes nothing.
        if any(r["opened"] or r["closed"] for r in result.values()):
            transaction.on_commit(_send_rollup)
    return result


def _send_rollup() -> None:
    from supervision.tasks import rollup_today

    rollup_today.delay()
