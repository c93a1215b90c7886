"""Rubrics, scores, the annual freeze, monthly circulars and monthly archives.

Scores are *stored results*: a score run copies what it scored (account and
organization names, the rubric's items, every evidence row's label) so that a frozen
year exports the same content whatever happens to the live data later (DOMAIN.md
rules 22, 26-30, 42). Point values live in rubric rows (data), never in code.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Level, Organization
from accounts.querysets import ScopedQuerySet
from registry.models import MediaAccount

PATH_OPS = ["varchar_pattern_ops"]
ZERO = Decimal("0")


# --- rubrics -----------------------------------------------------------------------------
class Part(models.TextChoices):
    VETO = "veto", _("Veto")
    DEDUCTION = "deduction", _("Deduction")
    BONUS = "bonus", _("Bonus")


class RubricStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("In force")
    RETIRED = "retired", _("Retired")


class Rubric(models.Model):
    """The scoring rules of one supervising organization for one year, versioned.

    A draft is edited freely; activation checks that the caps add up (and that no item
    counts likes, forwards or logins without the opt-in, rule 30) and retires the
    version in force. An active or retired rubric never changes: a change is a new
    version (rubric_new_version)."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("supervising organization"),
    )
    org_path = models.CharField(max_length=255, editable=False)
    year = models.PositiveSmallIntegerField(_("year"))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=120)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=RubricStatus.choices,
        default=RubricStatus.DRAFT,
    )
    pass_mark = models.DecimalField(
        _("pass mark"), max_digits=5, decimal_places=2, default=Decimal("60")
    )
    bonus_threshold = models.DecimalField(
        _("bonus threshold"), max_digits=5, decimal_places=2, default=Decimal("80")
    )
    bonus_cap = models.DecimalField(
        _("maximum bonus"), max_digits=5, decimal_places=2, default=Decimal("20")
    )
    engagement_opt_in = models.BooleanField(
        _("counts likes, forwards or logins (opt-in)"),
        default=False,
        help_text=_(
            "National rules since 2024 forbid scoring on likes, forwards or "
            "logins; an opt-in is shown on every report."
        ),
    )
    engagement_opt_in_reason = models.TextField(_("reason for the opt-in"), blank=True)
    based_on = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("based on"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    activated_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("rubric")
        verbose_name_plural = _("rubrics")
        ordering = ["-year", "org_path", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year", "version"], name="rubric_version_unique"
            ),
            models.UniqueConstraint(
                fields=["organization", "year"],
                condition=Q(status="active"),
                name="rubric_one_active_per_year",
            ),
        ]
        indexes = [
            models.Index(
                fields=["org_path"], name="rubric_path_idx", opclasses=PATH_OPS
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.year} v{self.version})"

    @property
    def is_editable(self) -> bool:
        return self.status == RubricStatus.DRAFT


class RubricItem(models.Model):
    """One veto, deduction or bonus item. `source` names how occurrences are found:
    an automatic source code (assessment.sources) or "manual" (an assessor's entry
    with evidence). A deduction or bonus is `points` per occurrence, at most `cap`,
    times `weight`; a veto item fails the account on any occurrence."""

    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="items")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=160)
    part = models.CharField(_("part"), max_length=10, choices=Part.choices)
    source = models.CharField(_("source"), max_length=40)
    points = models.DecimalField(
        _("points per occurrence"), max_digits=6, decimal_places=2, default=ZERO
    )
    cap = models.DecimalField(_("cap"), max_digits=6, decimal_places=2, default=ZERO)
    weight = models.DecimalField(
        _("weight"), max_digits=4, decimal_places=2, default=Decimal("1")
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("rubric item")
        verbose_name_plural = _("rubric items")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rubric", "code"], name="rubric_item_code_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def as_snapshot(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "part": self.part,
            "source": self.source,
            "points": str(self.points),
            "cap": str(self.cap),
            "weight": str(self.weight),
            "params": self.params,
            "order": self.order,
        }


class ManualEntryQuerySet(ScopedQuerySet):
    def in_force(self):
        return self.filter(withdrawn_at__isnull=True)


class ManualEntry(models.Model):
    """An assessor's finding for a manual item, with its evidence. Scoring matches it
    by item code and date, so it survives a new rubric version."""

    item = models.ForeignKey(
        RubricItem,
        on_delete=models.PROTECT,
        related_name="entries",
        verbose_name=_("item"),
    )
    item_code = models.SlugField(max_length=40, editable=False)
    account = models.ForeignKey(
        MediaAccount,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("media account"),
    )
    org_path = models.CharField(max_length=255, editable=False)
    occurred_on = models.DateField(_("date"))
    points = models.DecimalField(
        _("points"), max_digits=6, decimal_places=2, default=ZERO
    )
    evidence = models.TextField(_("evidence"))
    evidence_url = models.URLField(_("evidence link"), max_length=500, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdrawn_reason = models.TextField(blank=True)

    objects = ManualEntryQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("manual assessment entry")
        verbose_name_plural = _("manual assessment entries")
        ordering = ["-occurred_on", "-id"]
        indexes = [
            models.Index(
                fields=["org_path", "occurred_on"],
                name="manual_path_day_idx",
                opclasses=["varchar_pattern_ops", ""],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_code} · {self.account_id} · {self.occurred_on}"

    @property
    def organization(self):
        return self.account.organization


# --- scores ------------------------------------------------------------------------------
class RunStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Computing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Computation failed")


class ScoreRun(models.Model):
    """Scores of every account below `organization` for one period under one rubric.

    The rubric's items, the opt-in and the sources that were unavailable are copied
    into the run, so its report explains itself after the rubric changes."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organization"),
    )
    org_path = models.CharField(max_length=255, editable=False)
    rubric = models.ForeignKey(
        Rubric, on_delete=models.PROTECT, related_name="runs", verbose_name=_("rubric")
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING
    )
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    error = models.TextField(blank=True)
    items = models.JSONField(default=list, editable=False)
    engagement_opt_in = models.BooleanField(default=False, editable=False)
    unavailable_sources = models.JSONField(default=list, editable=False)
    account_count = models.PositiveIntegerField(_("accounts"), default=0)
    frozen = models.BooleanField(_("frozen"), default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Moved when the run starts and at each progress step; a running run whose
    # heartbeat is older than its task's time limit is taken as lost (reaped).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("score run")
        verbose_name_plural = _("score runs")
        ordering = ["-period_start", "-id"]
        indexes = [
            models.Index(
                fields=["org_path", "period_start"],
                name="run_path_idx",
                opclasses=["varchar_pattern_ops", ""],
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.period_start}–{self.period_end}"


class AccountScore(models.Model):
    """One account's score in a run. Names are copied (the snapshot outlives renames)."""

    run = models.ForeignKey(ScoreRun, on_delete=models.CASCADE, related_name="scores")
    account = models.ForeignKey(
        MediaAccount, on_delete=models.PROTECT, related_name="+"
    )
    account_label = models.CharField(_("media account"), max_length=100)
    platform_label = models.CharField(_("platform"), max_length=60)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+"
    )
    organization_label = models.CharField(_("organization"), max_length=120)
    org_path = models.CharField(max_length=255)
    level = models.CharField(_("level"), max_length=12, choices=Level.choices)
    vetoed = models.BooleanField(_("vetoed"), default=False)
    deductions = models.DecimalField(
        _("deductions"), max_digits=7, decimal_places=2, default=ZERO
    )
    base = models.DecimalField(
        _("score before bonus"), max_digits=7, decimal_places=2, default=ZERO
    )
    bonus = models.DecimalField(
        _("bonus"), max_digits=7, decimal_places=2, default=ZERO
    )
    total = models.DecimalField(
        _("score"), max_digits=7, decimal_places=2, default=ZERO
    )
    passed = models.BooleanField(_("passed"), default=False)
    rank_in_level = models.PositiveIntegerField(_("rank in level"), default=0)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("account score")
        verbose_name_plural = _("account scores")
        ordering = ["run", "rank_in_level", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "account"], name="score_once_per_run"
            )
        ]
        indexes = [
            models.Index(
                fields=["run", "org_path"],
                name="score_run_path_idx",
                opclasses=["", "varchar_pattern_ops"],
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_label}: {self.total}"

    @property
    def result_label(self) -> str:
        if self.vetoed:
            return str(_("Failed (veto)"))
        return str(_("Passed")) if self.passed else str(_("Failed"))


class ScoreLine(models.Model):
    """One rubric item's result for one account (only items that occurred)."""

    score = models.ForeignKey(
        AccountScore, on_delete=models.CASCADE, related_name="lines"
    )
    run = models.ForeignKey(ScoreRun, on_delete=models.CASCADE, related_name="+")
    item_code = models.CharField(max_length=40)
    item_name = models.CharField(_("item"), max_length=160)
    part = models.CharField(_("part"), max_length=10, choices=Part.choices)
    source = models.CharField(_("source"), max_length=40)
    occurrences = models.PositiveIntegerField(_("occurrences"), default=0)
    points = models.DecimalField(
        _("points before cap"), max_digits=8, decimal_places=2, default=ZERO
    )
    applied = models.DecimalField(
        _("points applied"), max_digits=8, decimal_places=2, default=ZERO
    )
    capped = models.BooleanField(_("capped"), default=False)

    class Meta:
        ordering = ["score", "id"]
        indexes = [models.Index(fields=["run", "item_code"], name="line_run_item_idx")]

    def __str__(self) -> str:
        return f"{self.item_code}: {self.applied}"


class ScoreEvidence(models.Model):
    """A row that caused a score line: a flag, a late filing, an overdue repost, an
    idle account, a manual entry. `kind` is the source row's model label; the label
    and link are copied at scoring time."""

    line = models.ForeignKey(
        ScoreLine, on_delete=models.CASCADE, related_name="evidence"
    )
    run = models.ForeignKey(ScoreRun, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40)
    label = models.CharField(_("evidence"), max_length=300)
    occurred_at = models.DateTimeField(_("time"), null=True, blank=True)
    url = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["line", "occurred_at", "id"]
        indexes = [models.Index(fields=["run", "kind"], name="evidence_run_kind_idx")]

    def __str__(self) -> str:
        return self.label


class OrgScore(models.Model):
    """An organization's figures in a run: its own accounts (sponsoring organization)."""

    run = models.ForeignKey(
        ScoreRun, on_delete=models.CASCADE, related_name="org_scores"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+"
    )
    organization_label = models.CharField(_("organization"), max_length=120)
    org_path = models.CharField(max_length=255)
    level = models.CharField(_("level"), max_length=12, choices=Level.choices)
    accounts = models.PositiveIntegerField(_("accounts"), default=0)
    passed = models.PositiveIntegerField(_("passed"), default=0)
    vetoed = models.PositiveIntegerField(_("vetoed"), default=0)
    average = models.DecimalField(
        _("average score"), max_digits=7, decimal_places=2, default=ZERO
    )
    rank_in_level = models.PositiveIntegerField(_("rank in level"), default=0)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("organization score")
        verbose_name_plural = _("organization scores")
        ordering = ["run", "level", "rank_in_level", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "organization"], name="org_score_once_per_run"
            )
        ]
        indexes = [
            models.Index(
                fields=["run", "org_path"],
                name="orgscore_run_path_idx",
                opclasses=["", "varchar_pattern_ops"],
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_label}: {self.average}"


# --- the annual assessment ------------------------------------------------------------------
class FreezeStatus(models.TextChoices):
    FROZEN = "frozen", _("Frozen")
    REOPENED = "reopened", _("Re-opened")


class AssessmentFreeze(models.Model):
    """A year frozen for a subtree: the score run becomes an immutable snapshot with a
    checksum over its rows. Re-opening keeps this row (status re-opened, with the
    reason); freezing again makes a new version."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organization"),
    )
    org_path = models.CharField(max_length=255, editable=False)
    year = models.PositiveSmallIntegerField(_("year"))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    run = models.ForeignKey(ScoreRun, on_delete=models.PROTECT, related_name="freezes")
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=FreezeStatus.choices,
        default=FreezeStatus.FROZEN,
    )
    checksum = models.CharField(_("checksum (SHA-256)"), max_length=64)
    figures = models.JSONField(
        _("government-website and open-government figures"), default=dict
    )
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    frozen_at = models.DateTimeField(_("frozen at"))
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reopened_at = models.DateTimeField(_("re-opened at"), null=True, blank=True)
    reopen_reason = models.TextField(_("reason for re-opening"), blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("annual assessment")
        verbose_name_plural = _("annual assessments")
        ordering = ["-year", "org_path", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year", "version"], name="freeze_version_unique"
            ),
            models.UniqueConstraint(
                fields=["organization", "year"],
                condition=Q(status="frozen"),
                name="freeze_once_per_year",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.year} v{self.version}"


# --- monthly circulars ------------------------------------------------------------------------
class CircularStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEWED = "reviewed", _("Reviewed")
    PUBLISHED = "published", _("Published")


CIRCULAR_TRANSITIONS: dict[str, frozenset[str]] = {
    CircularStatus.DRAFT: frozenset({CircularStatus.REVIEWED}),
    CircularStatus.REVIEWED: frozenset(
        {CircularStatus.PUBLISHED, CircularStatus.DRAFT}
    ),
}


class Circular(models.Model):
    """A monthly circular (月度通报) of a supervising organization, generated from the
    month's score run: reviewed by the supervisor, then published to the organizations
    below, each of which sees its own part (CircularPart)."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("supervising organization"),
    )
    org_path = models.CharField(max_length=255, editable=False)
    month = models.DateField(_("month"))
    run = models.ForeignKey(
        ScoreRun, on_delete=models.PROTECT, related_name="circulars"
    )
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=CircularStatus.choices,
        default=CircularStatus.DRAFT,
    )
    summary = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("monthly circular")
        verbose_name_plural = _("monthly circulars")
        ordering = ["-month", "org_path"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month"], name="circular_once_per_month"
            )
        ]

    def __str__(self) -> str:
        return self.title


class CircularPartQuerySet(ScopedQuerySet):
    def visible_to(self, user, action="view"):
        """A part is seen by the organization it concerns (and those above it) once the
        circular is published; the issuing organization's scope sees drafts too."""
        from accounts.scoping import scope_for

        scope = scope_for(user, action, self.model.scope_domain)
        return self.filter(scope.q("org_path")).filter(
            Q(circular__status=CircularStatus.PUBLISHED) | scope.q("circular__org_path")
        )


class CircularPart(models.Model):
    """One organization's part of a circular: its figures, its accounts under each veto
    or deduction heading, its commended accounts, its rectification status."""

    circular = models.ForeignKey(
        Circular, on_delete=models.CASCADE, related_name="parts"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+"
    )
    organization_label = models.CharField(max_length=120)
    org_path = models.CharField(max_length=255)
    level = models.CharField(max_length=12, choices=Level.choices)
    figures = models.JSONField(default=dict)
    headings = models.JSONField(default=list)
    commended = models.JSONField(default=list)
    rectification = models.JSONField(default=dict)

    objects = CircularPartQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("circular part")
        verbose_name_plural = _("circular parts")
        ordering = ["circular", "org_path"]
        constraints = [
            models.UniqueConstraint(
                fields=["circular", "organization"], name="circular_part_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["org_path"], name="circular_part_path_idx", opclasses=PATH_OPS
            )
        ]

    def __str__(self) -> str:
        return f"{self.circular_id} · {self.organization_label}"


# --- the monthly archive --------------------------------------------------------------------------
class MonthlyArchive(models.Model):
    """Last month's record of one organization (rule 26): a zip of XLSX/JSON plus a PDF
    summary. Versions: a second run for the same month with the same content changes
    nothing; changed content (a correction) makes a new version, never an overwrite."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organization"),
    )
    org_path = models.CharField(max_length=255, editable=False)
    month = models.DateField(_("month"))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    file_path = models.CharField(max_length=300)  # under MEDIA_ROOT
    size = models.BigIntegerField(_("size"), default=0)
    checksum = models.CharField(_("checksum (SHA-256)"), max_length=64)
    content_digest = models.CharField(max_length=64, editable=False)
    counts = models.JSONField(_("contents"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("monthly archive")
        verbose_name_plural = _("monthly archives")
        ordering = ["-month", "org_path", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month", "version"],
                name="archive_version_unique",
            )
        ]
        indexes = [
            models.Index(
                fields=["org_path", "month"],
                name="archive_path_idx",
                opclasses=["varchar_pattern_ops", ""],
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.month:%Y-%m} v{self.version}"
