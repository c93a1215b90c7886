"""The principal leader's sign-off of an opening or a closure (DOMAIN.md rule 8).

"Closing an account needs approval by the principal leader of the unit that owns it
... Opening needs a work plan approved by the same principal leader before it is
filed." The leader gives that approval here, in the system, on the filing: a filing
of a kind in `settings.REGISTRY_LEADER_SIGNOFF_KINDS` is created awaiting the
sponsoring organization's principal leader (`Filing.leader_signoff = pending`); the
leader approves (the filing then goes to the supervising organization, which alone
decides it) or refuses with a reason (the filing ends rejected, an unopened account
is released). Supervisors cannot decide a filing still awaiting its leader.

Who signs: an active principal leader of the sponsoring organization, never the
filer. A filing whose organization has no principal leader is refused at submission,
naming the vacant role, rather than waiting forever.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, Role, User
from accounts.scoping import Action, scope_for
from audit.services import audit_record, audit_record_bulk
from common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from notifications.services import notify
from registry.models import Filing, FilingStatus, LeaderSignoff, MediaAccount

LEADER = Role.PRINCIPAL_LEADER


def needs_signoff(kind: str) -> bool:
    return kind in settings.REGISTRY_LEADER_SIGNOFF_KINDS


def leaders_of(organization_ids, *, exclude: int | None = None):
    """The active principal leaders of these organizations (a queryset of users)."""
    users = User.objects.filter(
        is_active=True,
        pk__in=Membership.objects.active()
        .filter(organization_id__in=list(organization_ids), role=LEADER)
        .values("user_id"),
    )
    return users.exclude(pk=exclude) if exclude else users


def require_leader(organization: Organization, *, filer: User) -> None:
    """Refuse a submission nobody could sign off: the sponsoring organization has no
    principal leader other than the filer."""
    if not leaders_of([organization.pk], exclude=filer.pk).exists():
        message = _(
            "%(org)s has no principal leader to sign the filing off (DOMAIN.md rule 8). "
            "Ask the security administrator to appoint one, then file again."
        ) % {"org": organization.name}
        raise ValidationFailed(message, code="leader_vacant", fields={"organization": [message]})


def require_leaders_many(organizations: list[Organization], *, filer: User) -> dict[int, str]:
    """For a batch (an import): {organization id: error} for those without a leader.
    One query."""
    staffed = set(
        Membership.objects.active()
        .filter(
            organization_id__in=[o.pk for o in organizations], role=LEADER, user__is_active=True
        )
        .exclude(user_id=filer.pk)
        .values_list("organization_id", flat=True)
    )
    return {
        o.pk: _("%(org)s has no principal leader to sign the filing off.") % {"org": o.name}
        for o in organizations
        if o.pk not in staffed
    }


def notify_leaders(filings: list[Filing]) -> None:
    """Tell each filing's principal leaders it awaits their sign-off."""
    for filing in filings:
        notify(
            recipients=list(leaders_of([filing.organization_id], exclude=filing.submitted_by_id)),
            organization=filing.organization,
            kind="registry.filing_signoff_waiting",
            message=_("Filing %(number)s (%(kind)s of %(account)s) awaits your sign-off.")
            % {
                "number": filing.number,
                "kind": filing.get_kind_display(),
                "account": filing.account.display_name,
            },
            dedupe_key=f"registry.filing:{filing.pk}:signoff",
            url=reverse("registry:filing_detail", args=[filing.pk]),
            target=filing,
        )


def is_leader_of(user, organization_id: int) -> bool:
    return Membership.objects.active().filter(
        user=user, organization_id=organization_id, role=LEADER
    ).exists()


def can_sign(user, filing: Filing) -> bool:
    return (
        filing.status == FilingStatus.SUBMITTED
        and filing.leader_signoff == LeaderSignoff.PENDING
        and user.pk != filing.submitted_by_id
        and is_leader_of(user, filing.organization_id)
    )


def signoff_queue(user):
    """Filings awaiting this user's sign-off (as principal leader), oldest first."""
    org_ids = Membership.objects.active().filter(user=user, role=LEADER).values("organization_id")
    return (
        Filing.objects.filter(
            organization_id__in=org_ids,
            status=FilingStatus.SUBMITTED,
            leader_signoff=LeaderSignoff.PENDING,
        )
        .exclude(submitted_by=user)
        .select_related("account__platform", "organization", "submitted_by")
        .order_by("submitted_at", "id")
    )


def _require_signer(actor: User, filing: Filing) -> None:
    if not scope_for(actor, Action.VIEW).contains_path(filing.org_path):
        raise NotFound(_("Not found."))
    if not is_leader_of(actor, filing.organization_id):
        raise PermissionDenied(
            _("Only the principal leader of %(org)s signs this filing off.")
            % {"org": filing.organization.name},
            code="not_principal_leader",
        )
    if actor.pk == filing.submitted_by_id:
        raise PermissionDenied(_("Nobody signs off their own filing."), code="own_filing")


def _state(f: Filing) -> dict:
    return {
        "number": f.number,
        "status": f.status,
        "leader_signoff": f.leader_signoff,
        "leader_comment": f.leader_comment,
    }


@transaction.atomic
def filing_leader_decide(*, filing: Filing, actor: User, approve: bool, comment: str = "") -> Filing:
    """The principal leader approves (the supervisors are then told) or refuses (the
    filing ends rejected with the leader's reason; an unopened account is released)."""
    from registry.services import filings as filing_services

    f = (
        Filing.objects.select_for_update()
        .select_related("organization", "submitted_by", "account")
        .get(pk=filing.pk)
    )
    _require_signer(actor, f)
    if f.status != FilingStatus.SUBMITTED or f.leader_signoff != LeaderSignoff.PENDING:
        raise Conflict(
            _("This filing does not await the principal leader's sign-off."),
            code="not_awaiting_leader",
        )
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationFailed(
            _("Give the reason for refusing the sign-off."),
            code="reason_required",
            fields={"comment": [_("Enter the reason.")]},
        )
    before = _state(f)
    now = timezone.now()
    f.principal_leader = actor
    f.leader_decided_at = now
    f.leader_comment = comment
    fields = ["principal_leader", "leader_decided_at", "leader_comment", "leader_signoff"]
    if approve:
        f.leader_signoff = LeaderSignoff.APPROVED
        f.leader_approved_on = timezone.localdate(now)
        fields.append("leader_approved_on")
    else:
        f.leader_signoff = LeaderSignoff.REFUSED
        account = MediaAccount.objects.select_for_update().get(pk=f.account_id)
        filing_services.release_unopened(f, account, actor, LEADER)
        f.status = FilingStatus.REJECTED
        f.decided_by = actor
        f.decided_at = now
        f.decision_reason = comment
        fields += ["status", "decided_by", "decided_at", "decision_reason"]
    f.save(update_fields=fields)
    audit_record(
        actor=actor,
        action="filing.leader_approved" if approve else "filing.leader_refused",
        target=f,
        organization=f.organization,
        role=LEADER,
        before=before,
        after=_state(f),
    )
    if approve:
        filing_services.notify_submitted(f)
    else:
        filing_services.notify_decided(f)
    return f


def filing_leader_approve(*, filing: Filing, actor: User, comment: str = "") -> Filing:
    return filing_leader_decide(filing=filing, actor=actor, approve=True, comment=comment)


def filing_leader_refuse(*, filing: Filing, actor: User, comment: str) -> Filing:
    return filing_leader_decide(filing=filing, actor=actor, approve=False, comment=comment)


@transaction.atomic
def filing_leader_approve_many(*, actor: User, filing_ids: list[int], comment: str = "") -> int:
    """Sign off several filings at once (an imported batch): those of the list that
    await this leader; set-based (one update, one bulk audit write). Returns how many."""
    from registry.services import filings as filing_services

    org_ids = Membership.objects.active().filter(user=actor, role=LEADER).values(
        "organization_id"
    )
    rows = list(
        Filing.objects.select_for_update()
        .filter(
            pk__in=filing_ids[:500],
            organization_id__in=org_ids,
            status=FilingStatus.SUBMITTED,
            leader_signoff=LeaderSignoff.PENDING,
        )
        .exclude(submitted_by=actor)
        .select_related("organization", "account")
    )
    if not rows:
        return 0
    now = timezone.now()
    comment = (comment or "").strip()
    Filing.objects.filter(pk__in=[f.pk for f in rows]).update(
        leader_signoff=LeaderSignoff.APPROVED,
        principal_leader=actor,
        leader_decided_at=now,
        leader_approved_on=timezone.localdate(now),
        leader_comment=comment,
    )
    for f in rows:
        f.leader_signoff = LeaderSignoff.APPROVED
        f.principal_leader = actor
        f.leader_comment = comment
    audit_record_bulk(
        actor=actor,
        action="filing.leader_approved",
        targets=rows,
        organization_of=lambda f: f.organization,
        after_of=_state,
        role=LEADER,
    )
    filing_services.notify_submitted_many(rows)
    return len(rows)
