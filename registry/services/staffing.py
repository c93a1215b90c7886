"""Staffing upkeep (DOMAIN.md rules 5 and 9): when a person's operator role ends they
leave the accounts they ran (and the staffing minimum is checked again, a shortfall
raised for the organization and its supervising level); the daily custody job lists
accounts without a credential holder, with an outsourced holder, or with a rotation
past due, and tells those who must act."""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, Role, User
from audit.services import audit_record_bulk
from notifications.services import notify
from registry.models import (
    MediaAccount,
    RotationTask,
)
from registry.services import routing, rules

OPERATOR_ROLES = (Role.OPERATOR, Role.OUTSOURCED_OPERATOR)
LIVE = rules.LIVE_STATUSES


def _org_staff(org_id: int, roles) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True,
            pk__in=Membership.objects.active()
            .filter(organization_id=org_id, role__in=roles)
            .values("user_id"),
        )
    )


def operators_remove_for_membership(*, membership: Membership, actor=None) -> int:
    """accounts.services.membership_end hook (inside its transaction; registered after
    the credential rotation hook, which still needs the operator list): the person
    whose operator role ended leaves the operators of the organization's accounts,
    unless they still hold an operator role there. Accounts left below the staffing
    minimum raise a shortfall notification for the organization and its supervising
    level. Set-based: one DELETE, one count, one audit INSERT. Returns the number
    of accounts the person left."""
    if membership.role not in OPERATOR_ROLES:
        return 0
    user, org = membership.user, membership.organization
    if Membership.objects.active().filter(
        user=user, organization=org, role__in=OPERATOR_ROLES
    ).exists():
        return 0
    through = MediaAccount.operators.through
    links = through.objects.filter(user_id=user.pk, mediaaccount__organization=org)
    account_ids = list(links.values_list("mediaaccount_id", flat=True))
    if not account_ids:
        return 0
    through.objects.filter(user_id=user.pk, mediaaccount_id__in=account_ids).delete()
    accounts = list(
        MediaAccount.objects.filter(pk__in=account_ids)
        .select_related("organization", "supervising_organization")
        .annotate(n_operators=Count("operators", distinct=True))
    )
    audit_record_bulk(
        actor=actor,
        action="media_account.operator_removed",
        targets=accounts,
        organization_of=lambda a: a.organization,
        after_of=lambda a: {"operator_removed": user.username, "operators": a.n_operators,
                            "membership": membership.pk},
    )
    needed = rules.minimum_operators(org)
    short = [a for a in accounts if a.status in LIVE and a.n_operators < needed]
    if short:
        _notify_shortfall(org, short, needed, membership)
    return len(accounts)


def _notify_shortfall(org: Organization, short: list[MediaAccount], needed: int,
                      membership: Membership) -> None:
    names = "、".join(a.display_name for a in short[:10])
    message = _(
        "Staffing shortfall: %(n)s accounts of %(org)s have fewer than %(min)s operators "
        "after %(user)s's role ended (%(names)s). Name new operators by a change filing."
    ) % {"n": len(short), "org": org.name, "min": needed, "user": membership.user,
         "names": names}
    local = _org_staff(org.pk, [Role.DEPARTMENT_HEAD, Role.OPERATOR])
    levels = routing.decision_levels_many(
        list({a.supervising_organization_id: a.supervising_organization for a in short}.values())
    )
    supervisors = []
    for decider, _escalation in levels.values():
        supervisors += list(routing.supervisors_of_org(decider.pk))
    url = f"{reverse('registry:ledger')}?understaffed=true"
    notify(recipients=local + supervisors, organization=org,
           kind="registry.staffing_shortfall", message=message,
           dedupe_key=f"registry.shortfall:{membership.pk}", url=url)


def understaffed_q() -> Q:
    """Live accounts with fewer operators than their organization's minimum (rule 5);
    the queryset must be annotated with `n_operators` (`with_operator_count`). One
    query for the policies; the rest is a WHERE over the annotation."""
    from django.conf import settings

    from registry.models import StaffingPolicy

    policies = sorted(
        StaffingPolicy.objects.values_list("organization__path", "min_operators"),
        key=lambda row: -len(row[0]),
    )
    condition = Q(pk__in=[])
    covered: list[str] = []
    for path, minimum in policies:
        own = Q(org_path__startswith=path)
        for deeper in covered:
            if deeper.startswith(path):
                own &= ~Q(org_path__startswith=deeper)
        condition |= own & Q(n_operators__lt=minimum)
        covered.append(path)
    rest = Q(pk__in=[])
    for level, minimum in settings.REGISTRY_MIN_OPERATORS.items():
        rest |= Q(organization__level=level, n_operators__lt=minimum)
    for path in covered:
        rest &= ~Q(org_path__startswith=path)
    return Q(status__in=LIVE) & (condition | rest)


def with_operator_count(queryset):
    return queryset.annotate(n_operators=Count("operators", distinct=True))


# --- the daily custody job ---------------------------------------------------------------
CUSTODY_LOCK_KEY = 0x72656732  # "reg2"


def custody_gaps_by_organization(now=None) -> dict[int, dict[str, int]]:
    """Per sponsoring organization with a gap: live accounts without a credential
    holder, live accounts whose holder is outsourced staff there (security cannot be
    outsourced), and open rotations past due. Three grouped queries."""
    now = now or timezone.now()
    live = MediaAccount.objects.filter(status__in=LIVE)
    no_holder = (
        live.filter(Q(custody__isnull=True) | Q(custody__holder__isnull=True))
        .values("organization_id").annotate(n=Count("pk")).values_list("organization_id", "n")
    )
    outsourced_only = Membership.objects.active().filter(
        user_id=OuterRef("custody__holder_id"), organization_id=OuterRef("organization_id"),
        role=Role.OUTSOURCED_OPERATOR,
    )
    insider = Membership.objects.active().filter(
        user_id=OuterRef("custody__holder_id"), organization_id=OuterRef("organization_id"),
    ).exclude(role=Role.OUTSOURCED_OPERATOR)
    outsourced = (
        live.filter(custody__holder__isnull=False)
        .filter(Exists(outsourced_only), ~Exists(insider))
        .values("organization_id").annotate(n=Count("pk")).values_list("organization_id", "n")
    )
    overdue = (
        RotationTask.objects.filter(done_at__isnull=True, due_at__lt=now)
        .values("account__organization_id").annotate(n=Count("pk"))
        .values_list("account__organization_id", "n")
    )
    gaps: dict[int, dict[str, int]] = {}
    for key, rows in (("no_holder", no_holder), ("outsourced_holder", outsourced),
                      ("rotation_overdue", overdue)):
        for org_id, n in rows:
            gaps.setdefault(org_id, {"no_holder": 0, "outsourced_holder": 0,
                                     "rotation_overdue": 0})[key] = n
    return gaps


def custody_upkeep_sweep(now=None) -> int:
    """The daily job: tell each organization with a custody gap (its department head
    and operators) and its supervising level, once a day (dedupe key per day).
    Returns the number of organizations notified."""
    now = now or timezone.now()
    day = timezone.localdate(now).isoformat()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [CUSTODY_LOCK_KEY])
                if not cursor.fetchone()[0]:
                    return 0
        gaps = custody_gaps_by_organization(now)
        if not gaps:
            return 0
        orgs = Organization.objects.in_bulk(list(gaps))
        from registry.derive import derive_supervising_many

        supervising = derive_supervising_many(list(orgs.values()))
        levels = routing.decision_levels_many(list({o.pk: o for o in supervising.values()}.values()))
        url = reverse("registry:rotation_list")
        for org_id, counts in gaps.items():
            org = orgs[org_id]
            decider, _escalation = levels[supervising[org_id].pk]
            message = _(
                "Credential custody of %(org)s: %(none)s accounts without a holder, "
                "%(outsourced)s held by outsourced staff, %(overdue)s rotations past due."
            ) % {"org": org.name, "none": counts["no_holder"],
                 "outsourced": counts["outsourced_holder"],
                 "overdue": counts["rotation_overdue"]}
            notify(
                recipients=_org_staff(org_id, [Role.DEPARTMENT_HEAD, Role.OPERATOR])
                + list(routing.supervisors_of_org(decider.pk)),
                organization=org, kind="registry.custody_gaps", message=message,
                dedupe_key=f"registry.custody_gaps:{org_id}:{day}", url=url,
            )
    return len(gaps)
