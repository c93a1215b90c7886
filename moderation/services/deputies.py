"""Deputies (代签, DOMAIN.md rule 10): the principal leader appoints someone to decide
one review role's steps in the organization for a period, on behalf of its holder
(a leader away on duty). A deputy's decision is recorded with `on_behalf_of` on the
step, in the audit trail and on the sign-off sheet. The principal leader (or whoever
appointed) may end the appointment early; it lapses by itself after `ends_on`.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, Role, User
from accounts.scoping import Action, require
from audit.services import audit_record
from common.errors import Conflict, PermissionDenied, ValidationFailed
from moderation.models import ReviewDeputy, ReviewRole
from notifications.services import notify

MAX_DAYS = 90  # an appointment covers an absence, not a permanent delegation


def _holders(organization: Organization, role: str):
    return User.objects.filter(
        is_active=True,
        pk__in=Membership.objects.active()
        .filter(organization=organization, role=role)
        .values("user_id"),
    )


def is_principal_leader(user, organization: Organization) -> bool:
    return Membership.objects.active().filter(
        user=user, organization=organization, role=Role.PRINCIPAL_LEADER
    ).exists()


def active_deputies(organization_id: int, role: str | list[str], day: date | None = None):
    """The appointments in force on `day` for a role (or roles) of an organization."""
    day = day or timezone.localdate()
    roles = [role] if isinstance(role, str) else list(role)
    return ReviewDeputy.objects.filter(
        organization_id=organization_id, role__in=roles, ended_at__isnull=True,
        starts_on__lte=day, ends_on__gte=day, deputy__is_active=True,
    )


def deputy_roles_of(user, day: date | None = None) -> list[tuple[int, str]]:
    """(organization id, role) pairs `user` decides as a deputy today. One query."""
    day = day or timezone.localdate()
    return list(
        ReviewDeputy.objects.filter(
            deputy=user, ended_at__isnull=True, starts_on__lte=day, ends_on__gte=day
        ).values_list("organization_id", "role")
    )


def deputy_for(actor, organization_id: int, role: str) -> ReviewDeputy | None:
    """The appointment under which `actor` may decide `role` today, if any."""
    return (
        active_deputies(organization_id, role)
        .filter(deputy=actor)
        .select_related("on_behalf_of")
        .order_by("starts_on", "id")
        .first()
    )


@transaction.atomic
def deputy_appoint(
    *,
    actor: User,
    organization: Organization,
    role: str,
    deputy: User,
    starts_on: date,
    ends_on: date,
    on_behalf_of: User | None = None,
    reason: str = "",
) -> ReviewDeputy:
    require(actor, Action.VIEW, organization)
    if not is_principal_leader(actor, organization):
        raise PermissionDenied(
            _("Only the principal leader of %(org)s appoints deputies.") % {"org": organization.name},
            code="not_principal_leader",
        )
    errors: dict[str, list[str]] = {}
    if role not in ReviewRole.values:
        errors["role"] = [_("Choose a review role.")]
    today = timezone.localdate()
    if starts_on < today:
        errors["starts_on"] = [_("The period cannot start in the past.")]
    if ends_on < starts_on:
        errors["ends_on"] = [_("The end lies before the start.")]
    elif ends_on - starts_on > timedelta(days=MAX_DAYS):
        errors["ends_on"] = [
            _("A deputy is appointed for at most %(n)d days.") % {"n": MAX_DAYS}
        ]
    members = Membership.objects.active().filter(organization=organization, user=deputy)
    if not members.exists() or not deputy.is_active:
        errors["deputy"] = [
            _("The deputy must be a member of %(org)s.") % {"org": organization.name}
        ]
    elif members.filter(role=Role.OUTSOURCED_OPERATOR).exists():
        errors["deputy"] = [_("Outsourced staff cannot review posts, nor as deputies.")]
    if not errors:
        holders = _holders(organization, role)
        if on_behalf_of is None:
            on_behalf_of = actor if role == Role.PRINCIPAL_LEADER else holders.first()
        if on_behalf_of is None or not holders.filter(pk=on_behalf_of.pk).exists():
            errors["on_behalf_of"] = [
                _("Name who holds the %(role)s role in %(org)s; the deputy acts for them.")
                % {"role": ReviewRole(role).label, "org": organization.name}
            ]
        elif on_behalf_of.pk == deputy.pk:
            errors["deputy"] = [_("A person cannot be their own deputy.")]
        elif holders.filter(pk=deputy.pk).exists():
            errors["deputy"] = [_("The deputy already holds this role.")]
    if errors:
        raise ValidationFailed(
            next(iter(errors.values()))[0], code="deputy_invalid", fields=errors
        )
    appointment = ReviewDeputy(
        organization=organization, org_path=organization.path, role=role, deputy=deputy,
        on_behalf_of=on_behalf_of, starts_on=starts_on, ends_on=ends_on,
        reason=(reason or "").strip()[:500], appointed_by=actor,
    )
    appointment.full_clean()
    appointment.save()
    audit_record(
        actor=actor, action="moderation.deputy_appointed", target=appointment,
        organization=organization, role=Role.PRINCIPAL_LEADER,
        after={"role": role, "deputy": deputy.username, "on_behalf_of": on_behalf_of.username,
               "starts_on": starts_on, "ends_on": ends_on, "reason": appointment.reason},
    )
    notify(
        recipients=[deputy],
        organization=organization,
        kind="moderation.deputy_appointed",
        message=_("You review posts as %(role)s on behalf of %(name)s from %(start)s to %(end)s.")
        % {"role": ReviewRole(role).label, "name": on_behalf_of, "start": starts_on,
           "end": ends_on},
        dedupe_key=f"deputy:{appointment.pk}",
        url=reverse("moderation:queue"),
        target=appointment,
    )
    return appointment


@transaction.atomic
def deputy_end(*, actor: User, appointment: ReviewDeputy) -> ReviewDeputy:
    appointment = ReviewDeputy.objects.select_for_update().select_related("organization").get(
        pk=appointment.pk
    )
    require(actor, Action.VIEW, appointment.organization)
    if actor.pk != appointment.appointed_by_id and not is_principal_leader(
        actor, appointment.organization
    ):
        raise PermissionDenied(
            _("Only the principal leader ends a deputy's appointment."),
            code="not_principal_leader",
        )
    if appointment.ended_at is not None or appointment.ends_on < timezone.localdate():
        raise Conflict(_("This appointment has already ended."), code="deputy_ended")
    appointment.ended_at = timezone.now()
    appointment.save(update_fields=["ended_at"])
    audit_record(
        actor=actor, action="moderation.deputy_ended", target=appointment,
        organization=appointment.organization, role=Role.PRINCIPAL_LEADER,
        after={"ended_at": appointment.ended_at},
    )
    return appointment
