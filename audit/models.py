"""The append-only, hash-chained audit trail.

Each event stores copies of the actor, organization and target labels, so the record
outlives deletions, and `hash = sha256(prev_hash + canonical(event))`. Changing or
deleting an event through the app is refused; changing it directly in the database
breaks the chain, which `manage.py verify_audit` detects.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEventQuerySet(models.QuerySet):
    def visible_to(self, user, action="view"):
        """Audit administrators browse the events of organizations in their subtree,
        and the platform-wide events (empty organization path) that concern everyone."""
        from accounts.scoping import Domain, scope_for

        scope = scope_for(user, action, Domain.AUDIT)
        if scope.is_empty:
            return self.none()
        return self.filter(scope.q("organization_path") | models.Q(organization_path=""))

    def for_target(self, obj):
        return self.filter(target_type=obj._meta.label_lower, target_id=str(obj.pk))

    def update(self, **kwargs):
        raise AuditImmutable(_("Audit events cannot be changed."))

    def delete(self):
        raise AuditImmutable(_("Audit events cannot be deleted."))


class AuditImmutable(Exception):
    pass


class AuditEvent(models.Model):
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True)
    actor_label = models.CharField(_("actor"), max_length=150)
    role = models.CharField(_("role"), max_length=32, blank=True)
    organization_id = models.BigIntegerField(_("organization id"), null=True, blank=True)
    organization_path = models.CharField(max_length=255, blank=True, db_index=True)
    organization_label = models.CharField(_("organization"), max_length=120, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("target type"), max_length=64)
    target_id = models.CharField(_("target id"), max_length=64)
    target_label = models.CharField(_("target"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()
    scope_domain = "audit"
    scope_path_field = "organization_path"

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
            models.Index(
                fields=["organization_path"],
                name="audit_org_path_prefix_idx",
                opclasses=["varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AuditImmutable(_("Audit events cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditImmutable(_("Audit events cannot be deleted."))


class AuditChainHead(models.Model):
    """One row holding the newest hash; locking it serializes appends to the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)
    count = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self) -> str:
        return f"{self.count} events, last {self.last_hash[:12]}"
