"""Supervision: what the supervising office observes and how it follows up.

- Activity (`AccountPost`) and daily metric snapshots (`MetricSnapshot`): one row per
  published post / per account and day. On PostgreSQL both tables are partitioned by
  month (declarative range partitioning, see supervision/partitions.py); on SQLite
  they are plain tables.
- `Finding`: the one model of every technical and manual alert (DOMAIN.md rule 43),
  raised and closed by the sweeps (supervision/services/sweeps.py), assigned (交办)
  to the sponsoring organization that must act.
- `RectificationOrder` (+ `RectificationAnswer`), `SummonsInterview`: the follow-up.
- `Inspection` (+ `InspectionItem`): spot checks over a reproducible sample.
- `OpinionEvent`, `EmergencyPlan`: public-opinion events and their timers.
- `OrgDailyStat`: the per-organization daily roll-up the dashboard reads.

Every tenant-owned row keeps a copy of its organization's path (`org_path`) so that
"everything below X" is one indexed prefix query.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organization
from accounts.querysets import ScopedQuerySet
from registry.models import MediaAccount, Platform

PATH_OPS = ["varchar_pattern_ops"]


# --- activity and metrics ---------------------------------------------------------------
class PostSource(models.TextChoices):
    MODERATION = "moderation", _("Publication record")
    COLLECTOR = "collector", _("Collector")
    IMPORT = "import", _("Import")


class AccountPost(models.Model):
    """One post published on an account (activity). Idempotent on the platform's post
    id: (account, platform post id, published at) is unique; the ingestion service
    also merges a repeated id reported with another time (supervision.services.activity).

    PostgreSQL: partitioned by month of `published_at` (Asia/Shanghai months); the
    primary key there is (id, published_at), as partitioning requires."""

    account = models.ForeignKey(
        MediaAccount,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("account"),
    )
    platform = models.ForeignKey(
        Platform, on_delete=models.PROTECT, related_name="+", verbose_name=_("platform")
    )
    platform_post_id = models.CharField(_("platform post id"), max_length=128)
    org_path = models.CharField(max_length=255, editable=False)
    published_at = models.DateTimeField(_("published at"))
    url = models.CharField(_("URL"), max_length=500, blank=True)
    source = models.CharField(_("source"), max_length=12, choices=PostSource.choices)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("published post (activity)")
        verbose_name_plural = _("published posts (activity)")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "platform_post_id", "published_at"],
                name="activity_post_unique",
            ),
        ]
        indexes = [
            models.Index(
                fields=["account", "published_at"], name="activity_account_idx"
            ),
            models.Index(
                fields=["org_path", "published_at"],
                name="activity_path_idx",
                opclasses=["varchar_pattern_ops", ""],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.platform_post_id}"


METRIC_FIELDS = ("followers", "posts", "reads", "reposts", "comments", "likes")


class MetricSnapshot(models.Model):
    """An account's figures on one day, as a collector saw them. One row per account
    and day (a repeated report replaces the figures). PostgreSQL: partitioned by
    month of `day`."""

    account = models.ForeignKey(
        MediaAccount,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("account"),
    )
    day = models.DateField(_("day"))
    org_path = models.CharField(max_length=255, editable=False)
    followers = models.PositiveBigIntegerField(_("followers"), default=0)
    posts = models.PositiveBigIntegerField(_("posts"), default=0)
    reads = models.PositiveBigIntegerField(_("reads"), default=0)
    reposts = models.PositiveBigIntegerField(_("reposts"), default=0)
    comments = models.PositiveBigIntegerField(_("comments"), default=0)
    likes = models.PositiveBigIntegerField(_("likes"), default=0)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("metric snapshot")
        verbose_name_plural = _("metric snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "day"], name="metric_account_day_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["org_path", "day"],
                name="metric_path_idx",
                opclasses=["varchar_pattern_ops", ""],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}@{self.day}"


# --- findings -------------------------------------------------------------------------------
class FindingKind(models.TextChoices):
    IDLE = "idle", _("Idle account")
    IDLE_WARNING = "idle_warning", _("About to become idle")
    IDLE_CLEANUP = "idle_cleanup", _("Idle for the clean-up list")
    UNREGISTERED = "unregistered", _("Unregistered account found on a platform")
    CANCELLED_POSTING = "cancelled_posting", _("Cancelled account posting again")
    COUNTERFEIT = "counterfeit", _("Counterfeit account")
    STAFFING = "staffing", _("Staffing below minimum")
    UNVERIFIED = "unverified", _("Not real-name verified")
    NO_INTERACTION = "no_interaction", _("No working interaction channel")
    SLA_BREACH = "sla_breach", _("Message reply overdue")
    UNANSWERED_3M = "unanswered_3m", _("Message unanswered for three months")
    REPOST_OVERDUE = "repost_overdue", _("Repost overdue")
    UNAPPROVED_PUBLICATION = "unapproved_publication", _("Published without approval")
    MISSING_ACCOUNT = "missing_account", _("Required organization without an account")
    FOLLOWER_JUMP = "follower_jump", _("Sudden follower jump")
    EVENT_SILENCE = "event_silence", _("Silent during a public-opinion event")
    SECURITY_INCIDENT = "security_incident", _("Security incident or serious error")
    OTHER = "other", _("Other")


class Severity(models.TextChoices):
    VETO = "veto", _("Veto")
    DEDUCTION = "deduction", _("Deduction")
    NOTICE = "notice", _("Notice")


# The severity each kind is raised with (national inspection indicators, DOMAIN.md
# rule 28: no update in two weeks, no interaction channel, falsified data and security
# incidents are veto items; a 3-month unanswered message is veto-level, rule 33).
DEFAULT_SEVERITY: dict[str, str] = {
    FindingKind.IDLE: Severity.VETO,
    FindingKind.IDLE_WARNING: Severity.NOTICE,
    FindingKind.IDLE_CLEANUP: Severity.DEDUCTION,
    FindingKind.UNREGISTERED: Severity.DEDUCTION,
    FindingKind.CANCELLED_POSTING: Severity.DEDUCTION,
    FindingKind.COUNTERFEIT: Severity.DEDUCTION,
    FindingKind.STAFFING: Severity.DEDUCTION,
    FindingKind.UNVERIFIED: Severity.DEDUCTION,
    FindingKind.NO_INTERACTION: Severity.VETO,
    FindingKind.SLA_BREACH: Severity.DEDUCTION,
    FindingKind.UNANSWERED_3M: Severity.VETO,
    FindingKind.REPOST_OVERDUE: Severity.DEDUCTION,
    FindingKind.UNAPPROVED_PUBLICATION: Severity.DEDUCTION,
    FindingKind.MISSING_ACCOUNT: Severity.DEDUCTION,
    FindingKind.FOLLOWER_JUMP: Severity.NOTICE,
    FindingKind.EVENT_SILENCE: Severity.DEDUCTION,
    FindingKind.SECURITY_INCIDENT: Severity.VETO,
    FindingKind.OTHER: Severity.NOTICE,
}


class FindingStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("finding status", "Open")
    CLOSED = "closed", pgettext_lazy("finding status", "Closed")


class FindingOrigin(models.TextChoices):
    SWEEP = "sweep", _("Automatic sweep")
    CHECK = "check", _("Counterfeit check")
    INGEST = "ingest", _("Collector data")
    MANUAL = "manual", _("Manual")
    INSPECTION = "inspection", _("Inspection")


class CloseReason(models.TextChoices):
    NOT_SEEN = "not_seen", _("No longer seen by the sweep")
    RECTIFIED = "rectified", _("Rectified")
    DISMISSED = "dismissed", _("Dismissed")
    DISPOSED = "disposed", _("Disposed of")


class Disposition(models.TextChoices):
    REPORTED = "reported", _("Reported to the platform")
    TAKEN_DOWN = "taken_down", _("Taken down")
    FALSE_POSITIVE = "false_positive", _("False positive")


class FindingQuerySet(ScopedQuerySet):
    def with_last_seen(self):
        """Annotate `seen_at`, each finding's real "last seen": an open finding a
        sweep raised was seen by that kind's last sweep (else the sweep would have
        closed it), so it reads the kind's SweepStamp; any other finding its own
        `last_seen_at`. One query for the stamps (a dozen rows), then a plain CASE
        per row: a steady-state sweep rewrites no finding."""
        from django.db.models import Case, F, Value, When
        from django.db.models.functions import Greatest

        stamps = dict(SweepStamp.objects.values_list("kind", "ran_at"))
        if not stamps:
            return self.annotate(seen_at=F("last_seen_at"))
        whens = [
            When(
                kind=kind,
                status=FindingStatus.OPEN,
                origin=FindingOrigin.SWEEP,
                then=Greatest(F("last_seen_at"), Value(ran_at)),
            )
            for kind, ran_at in stamps.items()
        ]
        return self.annotate(
            seen_at=Case(
                *whens,
                default=F("last_seen_at"),
                output_field=models.DateTimeField(),
            )
        )


class SweepStamp(models.Model):
    """When the sweep of one automatic finding kind last ran (committed with the
    run). Read as the "last seen" of that kind's open sweep findings
    (FindingQuerySet.with_last_seen) instead of rewriting every one of them on each
    run: over 200,000 accounts the staffing sweep alone keeps ~150,000 open."""

    kind = models.CharField(
        _("kind"), max_length=24, choices=FindingKind.choices, unique=True
    )
    ran_at = models.DateTimeField(_("last run"))

    class Meta:
        verbose_name = _("sweep run")
        verbose_name_plural = _("sweep runs")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.ran_at:%Y-%m-%d %H:%M}"


class Finding(models.Model):
    """One technical or manual alert about an account or an organization.

    `subject_ref` identifies what the finding is about within its kind (the account
    id for account kinds, the organization id, the directive target, the flag, the
    event, or a stable hash of a counterfeit candidate): at most one *open* finding
    per (kind, subject_ref), enforced by a partial unique index, so a sweep run twice
    opens one finding. A scan that sees it again moves its "last seen" (for the
    sweep's own findings, the kind's SweepStamp: see `last_seen`); one that no
    longer sees it closes it (`close_reason` not_seen).

    Assignment (交办): `organization` is the sponsoring organization that must act;
    `assigned_at` is set when the finding is raised (the sweep's batch marker) and
    the organization's people are notified once per batch."""

    kind = models.CharField(_("kind"), max_length=24, choices=FindingKind.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=FindingStatus.choices,
        default=FindingStatus.OPEN,
    )
    origin = models.CharField(_("origin"), max_length=10, choices=FindingOrigin.choices)
    subject_ref = models.BigIntegerField(_("subject"))
    account = models.ForeignKey(
        MediaAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
        verbose_name=_("account"),
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="findings",
        verbose_name=_("assigned to"),
    )
    org_path = models.CharField(max_length=255, editable=False)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    evidence_url = models.URLField(_("evidence link"), max_length=500, blank=True)
    evidence_file = models.FileField(
        _("screenshot"), upload_to="supervision/findings/%Y/%m/", blank=True
    )
    first_seen_at = models.DateTimeField(_("first seen"))
    last_seen_at = models.DateTimeField(_("last seen"))
    assigned_at = models.DateTimeField(_("assigned at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("raised by"),
    )
    inspection = models.ForeignKey(
        "Inspection",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
        verbose_name=_("inspection"),
    )
    event = models.ForeignKey(
        "OpinionEvent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
        verbose_name=_("public-opinion event"),
    )
    disposition = models.CharField(
        _("disposition"), max_length=16, choices=Disposition.choices, blank=True
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_reason = models.CharField(
        _("reason closed"), max_length=12, choices=CloseReason.choices, blank=True
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("closed by"),
    )
    # Raised again after a rectification order on the same subject was closed
    # (DOMAIN.md rule 34: still failing at the next check is failed again).
    repeat_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("repeat of"),
    )

    objects = FindingQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject_ref"],
                condition=Q(status="open"),
                name="finding_one_open",
            ),
        ]
        indexes = [
            models.Index(
                fields=["org_path", "status", "kind"],
                name="finding_path_idx",
                opclasses=[
                    "varchar_pattern_ops",
                    "varchar_pattern_ops",
                    "varchar_pattern_ops",
                ],
            ),
            models.Index(fields=["assigned_at"], name="finding_assigned_idx"),
            models.Index(fields=["account", "status"], name="finding_account_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.account or self.organization}"

    @property
    def last_seen(self):
        """The real last sighting (FindingQuerySet.with_last_seen): the annotation
        when the row came from a list, else worked out here (one query)."""
        if hasattr(self, "seen_at"):
            return self.seen_at
        if self.status == FindingStatus.OPEN and self.origin == FindingOrigin.SWEEP:
            ran_at = (
                SweepStamp.objects.filter(kind=self.kind)
                .values_list("ran_at", flat=True)
                .first()
            )
            if ran_at is not None and ran_at > self.last_seen_at:
                return ran_at
        return self.last_seen_at

    @property
    def is_open(self) -> bool:
        return self.status == FindingStatus.OPEN


# --- rectification ----------------------------------------------------------------------------
class OrderStatus(models.TextChoices):
    ISSUED = "issued", _("Awaiting rectification")
    ANSWERED = "answered", _("Answered, awaiting verification")
    SENT_BACK = "sent_back", _("Sent back")
    CLOSED = "closed", _("Closed")


ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.ISSUED: frozenset({OrderStatus.ANSWERED}),
    OrderStatus.SENT_BACK: frozenset({OrderStatus.ANSWERED}),
    OrderStatus.ANSWERED: frozenset({OrderStatus.CLOSED, OrderStatus.SENT_BACK}),
}
ORDER_OPEN_STATUSES = (OrderStatus.ISSUED, OrderStatus.ANSWERED, OrderStatus.SENT_BACK)
# Waiting for the organization's answer (the rest of the open ones wait for the
# supervisor's verification).
ORDER_TO_ANSWER_STATUSES = (OrderStatus.ISSUED, OrderStatus.SENT_BACK)


class RectificationOrder(models.Model):
    """An order to rectify (整改), sent to the sponsoring organization, with a deadline
    computed once at issue (`due_at`; default 10 days, a policy). The organization
    answers with what it did and evidence; the supervisor verifies and closes it or
    sends it back. The sweep marks it overdue once (`overdue_at`) and escalates to
    the supervising organization above the issuer (`escalated_at`)."""

    number = models.CharField(_("number"), max_length=32, unique=True)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="rectification_orders",
        verbose_name=_("sent to"),
    )
    org_path = models.CharField(max_length=255, editable=False)
    issuing_organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issued by organization"),
    )
    account = models.ForeignKey(
        MediaAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rectification_orders",
        verbose_name=_("account"),
    )
    finding = models.ForeignKey(
        Finding,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("finding"),
    )
    inspection = models.ForeignKey(
        "Inspection",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("inspection"),
    )
    requirement = models.TextField(_("what must be rectified"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=OrderStatus.choices,
        default=OrderStatus.ISSUED,
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issued by"),
    )
    issued_at = models.DateTimeField(_("issued at"))
    due_at = models.DateTimeField(_("due at"))
    suspension_ordered = models.BooleanField(_("suspension ordered"), default=False)
    suspension_ordered_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(_("marked overdue at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("closed by"),
    )
    verification_note = models.TextField(_("verification note"), blank=True)
    # Set when the finding it answered was seen again after it was closed.
    failed_again_at = models.DateTimeField(_("failed again at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("rectification order")
        verbose_name_plural = _("rectification orders")
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(
                fields=["org_path", "status"],
                name="order_path_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
            ),
            models.Index(
                fields=["due_at"],
                name="order_open_due_idx",
                condition=Q(
                    status__in=["issued", "answered", "sent_back"],
                    overdue_at__isnull=True,
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in ORDER_OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        if self.status == OrderStatus.CLOSED:
            return bool(self.closed_at and self.closed_at > self.due_at)
        return timezone.now() > self.due_at


class RectificationAnswer(models.Model):
    """What the organization did, with evidence (a link or a file; at least one)."""

    order = models.ForeignKey(
        RectificationOrder, on_delete=models.CASCADE, related_name="answers"
    )
    text = models.TextField(_("what was done"))
    evidence_url = models.URLField(_("evidence link"), max_length=500, blank=True)
    evidence_file = models.FileField(
        _("evidence file"), upload_to="supervision/answers/%Y/%m/", blank=True
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("answered by"),
    )
    answered_at = models.DateTimeField(_("answered at"))
    # The supervisor's decision on this answer: "" (pending), closed or sent_back.
    decision = models.CharField(max_length=10, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("rectification answer")
        verbose_name_plural = _("rectification answers")
        ordering = ["answered_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} · {self.answered_at:%Y-%m-%d}"


class SummonsInterview(models.Model):
    """A summons interview (约谈) of an organization's responsible people."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="summons_interviews",
        verbose_name=_("organization"),
    )
    org_path = models.CharField(max_length=255, editable=False)
    order = models.ForeignKey(
        RectificationOrder,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="interviews",
        verbose_name=_("rectification order"),
    )
    held_at = models.DateTimeField(_("held at"))
    reason = models.TextField(_("reason"))
    attendees = models.TextField(_("attendees"))
    outcome = models.TextField(_("outcome"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("summons interview")
        verbose_name_plural = _("summons interviews")
        ordering = ["-held_at", "-id"]

    def __str__(self) -> str:
        return f"{self.organization} · {self.held_at:%Y-%m-%d}"


# --- inspections ---------------------------------------------------------------------------
class InspectionStatus(models.TextChoices):
    OPEN = "open", _("In progress")
    COMPLETED = "completed", _("Completed")


class Inspection(models.Model):
    """A spot check (抽查) of a subtree over a window (default the two weeks before the
    check time). The sample is the accounts live at start, all or `sample_percent` of
    them drawn with `seed` (random.Random(seed).sample over the ids in order), so
    the same seed over the same accounts picks the same sample."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="inspections",
        verbose_name=_("organization inspected"),
    )
    org_path = models.CharField(max_length=255, editable=False)
    title = models.CharField(_("title"), max_length=200)
    sample_percent = models.PositiveSmallIntegerField(_("sample (%)"), default=100)
    seed = models.BigIntegerField(_("random seed"))
    window_start = models.DateTimeField(_("window start"))
    window_end = models.DateTimeField(_("check time"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=InspectionStatus.choices,
        default=InspectionStatus.OPEN,
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("started by"),
    )
    started_at = models.DateTimeField(_("started at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    population = models.PositiveIntegerField(_("accounts in scope"), default=0)
    sampled = models.PositiveIntegerField(_("accounts sampled"), default=0)
    passed = models.PositiveIntegerField(_("accounts passed"), default=0)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(
                fields=["org_path", "status"],
                name="inspection_path_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def pass_rate(self) -> float | None:
        return round(100.0 * self.passed / self.sampled, 1) if self.sampled else None


class InspectionItem(models.Model):
    """One sampled account. `passed` is decided on the veto items: the automatic
    checks over the window (`auto_vetoes`) and the open veto findings raised in the
    inspection; None until the inspection is completed."""

    inspection = models.ForeignKey(
        Inspection, on_delete=models.CASCADE, related_name="items"
    )
    account = models.ForeignKey(
        MediaAccount,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("account"),
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+"
    )
    org_path = models.CharField(max_length=255, editable=False)
    platform = models.ForeignKey(Platform, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("level"), max_length=12)
    last_post_at = models.DateTimeField(_("last post"), null=True, blank=True)
    posts_in_window = models.PositiveIntegerField(_("posts in the window"), default=0)
    auto_vetoes = models.JSONField(_("automatic veto items"), default=list, blank=True)
    passed = models.BooleanField(_("passed"), null=True)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("inspected account")
        verbose_name_plural = _("inspected accounts")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["inspection", "account"], name="inspection_item_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.inspection_id} · {self.account_id}"


# --- public-opinion events ----------------------------------------------------------------
class EventLevel(models.TextChoices):
    MAJOR_EMERGENCY = "major_emergency", _("Major emergency")
    MAJOR = "major", _("Major public-opinion event")
    GENERAL = "general", _("General public-opinion event")


class EventStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("event status", "Open")
    CLOSED = "closed", pgettext_lazy("event status", "Closed")


class EmergencyPlan(models.Model):
    """The emergency plan of one event type (DOMAIN.md rule 44): process, channel,
    time limit and agreed wording (口径); an organization's plan applies to its
    subtree."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organization"),
    )
    org_path = models.CharField(max_length=255, editable=False)
    event_type = models.CharField(_("event type"), max_length=100)
    process = models.TextField(_("process"))
    channel = models.CharField(_("channel"), max_length=200)
    time_limit_hours = models.PositiveSmallIntegerField(_("time limit (hours)"))
    wording = models.TextField(_("agreed wording"), blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("emergency plan")
        verbose_name_plural = _("emergency plans")
        ordering = ["org_path", "event_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "event_type"], name="emergency_plan_unique"
            )
        ]

    def __str__(self) -> str:
        return self.event_type


class OpinionEvent(models.Model):
    """A public-opinion event or emergency. Its three timers run from `occurred_at`
    and are computed once at registration (DOMAIN.md rule 33: first authoritative
    release within 5 h for a major emergency, a press conference within 24 h, a
    response within 48 h). A timer passed without its time being recorded is a
    finding (event_silence) for the organization concerned."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="opinion_events",
        verbose_name=_("organization concerned"),
    )
    org_path = models.CharField(max_length=255, editable=False)
    title = models.CharField(_("title"), max_length=200)
    level = models.CharField(_("level"), max_length=16, choices=EventLevel.choices)
    event_type = models.CharField(_("event type"), max_length=100, blank=True)
    plan = models.ForeignKey(
        EmergencyPlan,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("emergency plan"),
    )
    description = models.TextField(_("description"), blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    release_due_at = models.DateTimeField(_("first release due"), null=True, blank=True)
    press_due_at = models.DateTimeField(
        _("press conference due"), null=True, blank=True
    )
    response_due_at = models.DateTimeField(_("response due"))
    released_at = models.DateTimeField(_("first release"), null=True, blank=True)
    press_held_at = models.DateTimeField(
        _("press conference held"), null=True, blank=True
    )
    responded_at = models.DateTimeField(_("responded"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=EventStatus.choices, default=EventStatus.OPEN
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("registered by"),
    )
    registered_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("public-opinion event")
        verbose_name_plural = _("public-opinion events")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(
                fields=["org_path", "status"],
                name="event_path_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def timers(self, now=None) -> list[dict]:
        """The event's timers with their state (done, overdue, running)."""
        now = now or timezone.now()
        rows = []
        for key, label, due, done in (
            (
                "release",
                _("First authoritative release"),
                self.release_due_at,
                self.released_at,
            ),
            ("press", _("Press conference"), self.press_due_at, self.press_held_at),
            ("response", _("Response"), self.response_due_at, self.responded_at),
        ):
            if due is None:
                continue
            rows.append(
                {
                    "key": key,
                    "label": label,
                    "due_at": due,
                    "done_at": done,
                    "overdue": (done or now) > due,
                    "remaining": None if done else due - now,
                }
            )
        return rows


# --- roll-ups ---------------------------------------------------------------------------------
ROLLUP_FIELDS = (
    "accounts_total",
    "accounts_active",
    "accounts_rectifying",
    "accounts_suspended",
    "accounts_cancelled",
    "idle_now",
    "findings_open",
    "findings_veto",
    "findings_deduction",
    "findings_notice",
    "reposts_overdue",
    "filings_pending",
    "reviews_pending",
    "orders_open",
    "orders_overdue",
    "sla_breaches",
    "posts_day",
)


class OrgDailyStat(models.Model):
    """The dashboard's figures for one organization's whole subtree on one day
    (subtree totals, so a scope's figures are one row and the level below is one
    row per child). Maintained by supervision.services.rollups: the whole tree each
    night and after each sweep, and the chain of ancestors after a service changes
    an order or a finding. Not tenant data of its own: read through the dashboard
    selector, which checks the organization against the user's scope."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+"
    )
    path = models.CharField(max_length=255)
    depth = models.PositiveSmallIntegerField()
    day = models.DateField()
    accounts_total = models.PositiveIntegerField(default=0)
    accounts_active = models.PositiveIntegerField(default=0)
    accounts_rectifying = models.PositiveIntegerField(default=0)
    accounts_suspended = models.PositiveIntegerField(default=0)
    accounts_cancelled = models.PositiveIntegerField(default=0)
    idle_now = models.PositiveIntegerField(default=0)
    findings_open = models.PositiveIntegerField(default=0)
    findings_veto = models.PositiveIntegerField(default=0)
    findings_deduction = models.PositiveIntegerField(default=0)
    findings_notice = models.PositiveIntegerField(default=0)
    reposts_overdue = models.PositiveIntegerField(default=0)
    filings_pending = models.PositiveIntegerField(default=0)
    reviews_pending = models.PositiveIntegerField(default=0)
    orders_open = models.PositiveIntegerField(default=0)
    orders_overdue = models.PositiveIntegerField(default=0)
    sla_breaches = models.PositiveIntegerField(default=0)
    posts_day = models.PositiveIntegerField(default=0)
    by_platform = models.JSONField(default=dict)
    by_kind = models.JSONField(default=dict)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("daily figures")
        verbose_name_plural = _("daily figures")
        constraints = [
            models.UniqueConstraint(
                fields=["path", "day"], name="orgstat_path_day_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["path", "day"],
                name="orgstat_prefix_idx",
                opclasses=["varchar_pattern_ops", ""],
            ),
            models.Index(fields=["day", "depth"], name="orgstat_day_depth_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.path}@{self.day}"
