"""Credential custody (DOMAIN.md rule 9): who holds each account's credentials and when
they were last changed. No password is ever stored. When an operator's role ends,
a rotation task is opened for each account they ran, with a deadline."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Role, User
from accounts.scoping import Action, require
from audit.services import audit_record, audit_record_bulk
from common.errors import Conflict, ValidationFailed
from notifications.services import notify
from registry.models import (
    RELEASED_STATUSES,
    CredentialCustody,
    MediaAccount,
    RotationTask,
)
from workcalendar.calendar import deadline_after

ROTATING_ROLES = frozenset({Role.OPERATOR, Role.OUTSOURCED_OPERATOR})


def _custody_state(c: CredentialCustody) -> dict:
    return {"holder": c.holder_id, "last_changed_on": c.last_changed_on}


@transaction.atomic
def custody_set(
    *, actor: User, account: MediaAccount, holder: User | None, last_changed_on: date | None
) -> CredentialCustody:
    """Record who holds the account's credentials and when they were last changed."""
    account = MediaAccount.objects.select_for_update().select_related("organization").get(pk=account.pk)
    role = require(actor, Action.CHANGE, account.organization)
    if holder is not None and not Membership.objects.active().filter(
        user=holder, organization=account.organization
    ).exists():
        message = _("The holder must be a person of %(org)s.") % {"org": account.organization.name}
        raise ValidationFailed(message, fields={"holder": [message]})
    if holder is not None and not Membership.objects.active().filter(
        user=holder, organization=account.organization
    ).exclude(role=Role.OUTSOURCED_OPERATOR).exists():
        # DOMAIN.md rule 9: "service can be outsourced; security cannot".
        message = _("Outsourced staff cannot hold an account's credentials; choose a "
                    "person employed by %(org)s.") % {"org": account.organization.name}
        raise ValidationFailed(message, code="outsourced_custody", fields={"holder": [message]})
    if last_changed_on is not None and last_changed_on > timezone.localdate():
        raise ValidationFailed(
            _("This date lies in the future."), fields={"last_changed_on": [_("This date lies in the future.")]}
        )
    custody, _created = CredentialCustody.objects.select_for_update().get_or_create(account=account)
    before = _custody_state(custody)
    custody.holder = holder
    custody.last_changed_on = last_changed_on
    custody.save(update_fields=["holder", "last_changed_on", "updated_at"])
    audit_record(
        actor=actor, action="credential_custody.set", target=account, role=role,
        before=before, after=_custody_state(custody),
    )
    return custody


def rotation_open_for_membership(*, membership: Membership, actor=None) -> int:
    """accounts.services.membership_end hook (inside its transaction): open a rotation
    task for each live account of the organization the person ran or held the
    credentials of. Safe to run twice (one task per account and ended role)."""
    user = membership.user
    holds = Q(custody__holder=user)
    if membership.role in ROTATING_ROLES:
        holds |= Q(operators=user)
    elif not CredentialCustody.objects.filter(holder=user).exists():
        return 0
    accounts = list(
        MediaAccount.objects.filter(organization=membership.organization)
        .exclude(status__in=RELEASED_STATUSES)
        .filter(holds)
        .select_related("organization")
        .distinct()
    )
    if not accounts:
        return 0
    now = timezone.now()
    deadline = deadline_after(
        now, settings.REGISTRY_ROTATION_DUE_WORKING_DAYS, membership.organization.region_code
    )
    due = deadline.due_at
    existing = set(
        RotationTask.objects.filter(
            membership_id=membership.pk, account__in=accounts
        ).values_list("account_id", flat=True)
    )
    tasks = [
        RotationTask(
            account=a, departed_user=user, membership_id=membership.pk, opened_at=now, due_at=due,
            due_provisional=deadline.provisional,
        )
        for a in accounts
        if a.pk not in existing
    ]
    if not tasks:
        return 0
    RotationTask.objects.bulk_create(tasks, ignore_conflicts=True)
    created = list(
        RotationTask.objects.filter(membership_id=membership.pk, opened_at=now).select_related(
            "account__organization"
        )
    )
    audit_record_bulk(
        actor=actor,
        action="credential_rotation.opened",
        targets=[t.account for t in created],
        organization_of=lambda a: a.organization,
        after_of=lambda a: {"departed_user": user.username, "due_at": due},
    )
    org = membership.organization
    recipients = User.objects.filter(
        memberships__organization=org,
        memberships__is_active=True,
        memberships__role__in=[Role.DEPARTMENT_HEAD, Role.OPERATOR],
        is_active=True,
    ).exclude(pk=user.pk).distinct()
    notify(
        recipients=list(recipients),
        organization=org,
        kind="registry.rotation_opened",
        message=_("%(user)s's role ended: change the credentials of %(n)s accounts by %(due)s.")
        % {"user": user, "n": len(created), "due": timezone.localtime(due).strftime("%Y-%m-%d")},
        dedupe_key=f"registry.rotation:{membership.pk}",
        url=reverse("registry:rotation_list"),
    )
    return len(created)


@transaction.atomic
def rotation_complete(
    *, actor: User, task: RotationTask, changed_on: date | None = None
) -> RotationTask:
    """The credentials were changed: close the task and record the date."""
    t = RotationTask.objects.select_for_update().select_related("account__organization").get(pk=task.pk)
    role = require(actor, Action.CHANGE, t.account.organization)
    if t.done_at is not None:
        raise Conflict(_("This rotation is already done."), code="already_done")
    if actor.pk == t.departed_user_id:
        raise ValidationFailed(
            _("The person who left cannot confirm the change of credentials."),
            code="departed_user",
        )
    changed_on = changed_on or timezone.localdate()
    if changed_on > timezone.localdate():
        raise ValidationFailed(
            _("This date lies in the future."), fields={"changed_on": [_("This date lies in the future.")]}
        )
    t.done_at = timezone.now()
    t.done_by = actor
    t.save(update_fields=["done_at", "done_by"])
    custody, _created = CredentialCustody.objects.select_for_update().get_or_create(account=t.account)
    before = _custody_state(custody)
    custody.last_changed_on = changed_on
    if custody.holder_id == t.departed_user_id:
        custody.holder = None
    custody.save(update_fields=["holder", "last_changed_on", "updated_at"])
    audit_record(
        actor=actor,
        action="credential_rotation.done",
        target=t.account,
        role=role,
        before=before,
        after=_custody_state(custody) | {"task": t.pk},
    )
    return t
