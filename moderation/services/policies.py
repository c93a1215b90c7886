"""Repost policies: how long the accounts on a platform have to repost.

A policy is read when a directive is issued and its deadlines computed; the
directive records the rules it used, so saving a policy changes the deadlines of
directives issued afterwards only (moderation.models.POLICY_CHANGE_NOTE)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.scoping import Action, memberships_of, require
from audit.services import audit_record
from common.errors import PermissionDenied, ValidationFailed
from moderation.models import DeadlineUnit, RepostPolicy

MAX_AMOUNT = {DeadlineUnit.MINUTES: 30 * 24 * 60, DeadlineUnit.WORKING_DAYS: 30}
MAX_WARN_MINUTES = 24 * 60
CHANGEABLE = ("unit", "amount", "warn_before_minutes")


def _state(policy: RepostPolicy) -> dict:
    return {"platform": policy.platform_id, "organization": policy.organization_id,
            "unit": policy.unit, "amount": policy.amount,
            "warn_before_minutes": policy.warn_before_minutes}


def _check_authority(actor, policy: RepostPolicy) -> str:
    """SECURITY: a national default is set by a platform superuser (the admin); an
    organization's policy by a supervisor of that organization or of one above it.
    Returns the acting role."""
    if getattr(actor, "is_superuser", False):
        return ""
    if policy.organization_id is None:
        raise PermissionDenied(_("National default policies are changed by the platform "
                                 "administrators."), code="national_default")
    org = policy.organization
    role = require(actor, Action.CHANGE, org)  # 404 outside the user's scope
    supervises = any(m.role == Role.SUPERVISOR and org.path.startswith(m.organization.path)
                     for m in memberships_of(actor))
    if not supervises:
        raise PermissionDenied(_("Only a supervisor of %(org)s sets its repost policies.")
                               % {"org": org.name}, code="not_supervisor")
    return role


def _validate(policy: RepostPolicy) -> None:
    errors: dict[str, list] = {}
    if policy.unit not in DeadlineUnit.values:
        errors["unit"] = [_("Unknown unit.")]
    elif not 1 <= (policy.amount or 0) <= MAX_AMOUNT[policy.unit]:
        errors["amount"] = [_("Between 1 and %(max)s.") % {"max": MAX_AMOUNT[policy.unit]}]
    if not 0 <= (policy.warn_before_minutes or 0) <= MAX_WARN_MINUTES:
        errors["warn_before_minutes"] = [_("Between 0 and %(max)s.")
                                         % {"max": MAX_WARN_MINUTES}]
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), fields=errors)


def repost_policy_check(*, actor, policy: RepostPolicy) -> str:
    """Everything repost_policy_save checks before writing (the admin form shows the
    errors on the form). Returns the acting role."""
    role = _check_authority(actor, policy)
    _validate(policy)
    duplicate = RepostPolicy.objects.filter(platform_id=policy.platform_id,
                                            organization_id=policy.organization_id)
    if policy.pk:
        duplicate = duplicate.exclude(pk=policy.pk)
    if duplicate.exists():
        raise ValidationFailed(
            _("This organization already has a policy for this platform; change that one."),
            code="policy_exists", fields={"platform": [_("Already has a policy.")]})
    return role


@transaction.atomic
def repost_policy_save(*, actor, policy: RepostPolicy) -> RepostPolicy:
    """Add a policy, or change the deadline of an existing one (its platform and
    organization stay). Applies to directives issued from now on; deadlines already
    issued do not move."""
    before = None
    if policy.pk:
        current = RepostPolicy.objects.select_for_update(of=("self",)).select_related(
            "organization").get(pk=policy.pk)
        if (current.platform_id, current.organization_id) != (
                policy.platform_id, policy.organization_id):
            raise ValidationFailed(
                _("A policy's platform and organization do not change; add a new policy."),
                fields={"organization": [_("Cannot be changed.")]})
        before = _state(current)
    role = repost_policy_check(actor=actor, policy=policy)
    policy.full_clean(exclude=["platform", "organization"], validate_unique=False)
    policy.save()
    audit_record(
        actor=actor,
        action="moderation.repost_policy_create" if before is None
        else "moderation.repost_policy_update",
        target=policy, organization=policy.organization, role=role, before=before,
        after=_state(policy), platform_wide=policy.organization_id is None,
    )
    return policy
