"""Export jobs: a large export runs in Celery and leaves a file that expires."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ExportState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


class ExportJob(models.Model):
    """One export above the in-request limit. Only its user sees it (404 otherwise)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_jobs"
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Where the export was taken (the audit event's organization).",
    )
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=120, blank=True)
    params = models.JSONField(default=dict, blank=True)
    file_format = models.CharField(max_length=4)
    language = models.CharField(max_length=10, blank=True)  # headers and labels
    state = models.CharField(
        max_length=10, choices=ExportState.choices, default=ExportState.QUEUED
    )
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True)
    file_path = models.CharField(max_length=300, blank=True)  # under MEDIA_ROOT
    size = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    # Moved at the start and at every progress write; a running job whose heartbeat
    # stops is taken as lost (export_jobs_reap_lost).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="exportjob_user_idx"),
            models.Index(fields=["state", "expires_at"], name="exportjob_expiry_idx"),
        ]
        verbose_name = _("export")
        verbose_name_plural = _("exports")

    def __str__(self) -> str:
        return self.file_name or f"{self.kind} ({self.file_format})"

    @property
    def percent(self) -> int:
        if self.state == ExportState.DONE:
            return 100
        if not self.total:
            return 0
        return min(99, int(100 * self.done / self.total))

    @property
    def downloadable(self) -> bool:
        return (
            self.state == ExportState.DONE
            and bool(self.file_path)
            and (self.expires_at is None or self.expires_at > timezone.now())
        )
