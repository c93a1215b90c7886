"""Repost directives: issue (set-based), confirm, and the once-a-minute sweep.

Each target's deadline is computed once, at issue time, into `due_at` and `warn_at`
(DESIGN.md "Time"), from the repost policies in force then (recorded on the
directive); the sweep is then two indexed, set-based UPDATEs, and its notifications
a follow-up task.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, Role, User
from accounts.scoping import Action, require, roles_of
from audit.services import audit_record
from common.errors import Conflict, PermissionDenied, ValidationFailed
from moderation.models import (
    DeadlineUnit,
    DirectiveReach,
    DirectiveTarget,
    Importance,
    Post,
    RepostDirective,
    RepostPolicy,
)
from notifications.services import notify
from registry.models import AccountStatus, MediaAccount, Platform
from registry.services.accounts import url_on_platform
from workcalendar.calendar import deadline_after

# Platforms without a policy row get this (configurable by adding a RepostPolicy).
FALLBACK = (DeadlineUnit.MINUTES, 24 * 60, 60)
MAX_TARGETS = 50000


def policies_for(organization: Organization) -> dict[int, RepostPolicy]:
    """Per platform, the policy of the nearest organization up the tree, else the
    national default."""
    from moderation.prechecks import ancestor_paths

    rows = RepostPolicy.objects.filter(
        Q(organization__isnull=True) | Q(organization__path__in=ancestor_paths(organization.path))
    ).select_related("organization")
    best: dict[int, tuple[int, RepostPolicy]] = {}
    for policy in rows:
        depth = len(policy.organization.path) if policy.organization_id else 0
        if policy.platform_id not in best or depth > best[policy.platform_id][0]:
            best[policy.platform_id] = (depth, policy)
    return {pid: p for pid, (_d, p) in best.items()}


def _deadline(policy, issued_at, region_code: str):
    """`policy` is a RepostPolicy, a snapshot [unit, amount, warn minutes], or None
    (the fallback)."""
    if policy is None:
        unit, amount, warn = FALLBACK
    elif isinstance(policy, RepostPolicy):
        unit, amount, warn = policy.unit, policy.amount, policy.warn_before_minutes
    else:
        unit, amount, warn = policy
    if unit == DeadlineUnit.WORKING_DAYS:
        result = deadline_after(issued_at, amount, region_code)
        due, provisional = result.due_at, result.provisional
    else:
        due, provisional = issued_at + timedelta(minutes=amount), False
    warn_at = max(issued_at, due - timedelta(minutes=warn))
    return due, warn_at, provisional


def _calendar_regions(region_codes: set[str], issued_at) -> dict[str, str]:
    """Map each region to the most specific region of its chain that has its own
    holidays in the coming weeks ("" = the national calendar): regions without own
    days share one computation. One query."""
    from workcalendar.calendar import region_chain
    from workcalendar.models import SpecialDay

    chains = {code: region_chain(code) for code in region_codes}
    candidates = {c for chain in chains.values() for c in chain if c}
    start = timezone.localtime(issued_at).date()
    own = set(
        SpecialDay.objects.filter(region_code__in=candidates, date__gte=start,
                                  date__lte=start + timedelta(days=60))
        .values_list("region_code", flat=True).distinct()
    ) if candidates else set()
    result = {}
    for code, chain in chains.items():
        specific = [c for c in chain if c in own]
        result[code] = specific[-1] if specific else ""
    return result


@transaction.atomic
def directive_issue(
    *, actor, organization: Organization, title: str, source_url: str,
    post: Post | None = None, note: str = "", platform_codes: list[str] | None = None,
    organization_ids: list[int] | None = None, issued_at=None,
) -> RepostDirective:
    """Issue a directive to the active accounts of the organization's subtree (all, or
    those on the given platforms and/or of the given organizations and their
    subtrees). Set-based: one query for the accounts, one bulk insert of targets."""
    role = require(actor, Action.CHANGE, organization)
    if Role.SUPERVISOR not in roles_of(actor, organization):
        raise PermissionDenied(_("Only a supervisor issues repost directives."),
                               code="not_supervisor")
    errors = {}
    if not (title or "").strip():
        errors["title"] = [_("Required.")]
    if not (source_url or "").startswith(("http://", "https://")):
        errors["source_url"] = [_("Enter a valid URL.")]
    if post is not None and post.importance != Importance.MAJOR:
        errors["post"] = [_("Repost directives are for major items.")]
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), fields=errors)
    # DOMAIN.md rule 15: the accounts *below* the issuer repost; the issuing
    # organization's own accounts (which published the item) are not targets.
    accounts = MediaAccount.objects.filter(org_path__startswith=organization.path,
                                           status=AccountStatus.ACTIVE).exclude(
                                               organization=organization)
    if post is not None:
        accounts = accounts.exclude(pk__in=post.target_accounts.values("pk"))
    selection = {}
    if platform_codes:
        known = set(Platform.objects.filter(code__in=platform_codes).values_list("code", flat=True))
        if unknown := sorted(set(platform_codes) - known):
            raise ValidationFailed(_("Unknown platform."),
                                   fields={"platforms": [", ".join(unknown)]})
        accounts = accounts.filter(platform__code__in=platform_codes)
        selection["platforms"] = sorted(platform_codes)
    if organization_ids:
        orgs = list(Organization.objects.filter(pk__in=organization_ids,
                                                path__startswith=organization.path))
        if len(orgs) != len(set(organization_ids)):
            raise ValidationFailed(_("Unknown organization."),
                                   fields={"organizations": [_("Outside your jurisdiction.")]})
        cond = Q()
        for org in orgs:
            cond |= Q(org_path__startswith=org.path)
        accounts = accounts.filter(cond)
        selection["organizations"] = sorted(o.pk for o in orgs)
    # The issuing account itself does not repost its own item.
    rows = list(accounts.values_list("id", "organization_id", "org_path", "platform_id",
                                     "region_code")[: MAX_TARGETS + 1])
    if not rows:
        raise ValidationFailed(_("No active accounts match the selection."),
                               code="no_targets", fields={"platforms": [_("No accounts.")]})
    if len(rows) > MAX_TARGETS:
        raise ValidationFailed(_("Too many targets; narrow the selection."),
                               fields={"platforms": [_("Too many accounts.")]})
    issued_at = issued_at or timezone.now()
    directive = RepostDirective.objects.create(
        organization=organization, org_path=organization.path, post=post, title=title.strip(),
        source_url=source_url, note=note, selection=selection, issued_by=actor,
        issued_at=issued_at, target_count=len(rows),
    )
    policies = policies_for(organization)
    directive.deadline_rules = {
        str(pid): [p.unit, p.amount, p.warn_before_minutes] for pid, p in policies.items()
    }
    directive.save(update_fields=["deadline_rules"])
    calendar_region = _calendar_regions({r[4] for r in rows}, issued_at)
    # Deadlines depend only on the platform's policy and the calendar that applies to
    # the account's region: compute each distinct pair once.
    deadlines, cache = {}, {}
    for platform_id, region in {(r[3], r[4]) for r in rows}:
        key = (platform_id, calendar_region[region])
        if key not in cache:
            cache[key] = _deadline(policies.get(platform_id), issued_at, key[1])
        deadlines[(platform_id, region)] = cache[key]
    targets = []
    for account_id, org_id, path, platform_id, region in rows:
        due, warn, provisional = deadlines[(platform_id, region)]
        targets.append(DirectiveTarget(
            directive=directive, account_id=account_id, organization_id=org_id,
            org_path=path, platform_id=platform_id, due_at=due, warn_at=warn,
            provisional=provisional,
        ))
    DirectiveTarget.objects.bulk_create(targets, batch_size=2000)
    DirectiveReach.objects.bulk_create(
        [DirectiveReach(directive=directive, path=path)
         for path in _reach({r[2] for r in rows})],
        batch_size=2000,
    )
    audit_record(actor=actor, action="moderation.directive_issue", target=directive,
                 organization=organization, role=role,
                 after={"title": directive.title, "targets": len(rows), "selection": selection})
    transaction.on_commit(lambda: _notify_issued(directive.pk))
    return directive


def _operators_of(target_filter: Q) -> list[User]:
    """The operators who must act on the filtered targets: the accounts' named
    operators, and the operators of the accounts' organizations. Two queries."""
    targets = DirectiveTarget.objects.filter(target_filter)
    named = MediaAccount.operators.through.objects.filter(
        mediaaccount_id__in=targets.values("account_id")).values("user_id")
    members = Membership.objects.active().filter(
        organization_id__in=targets.values("organization_id"),
        role__in=[Role.OPERATOR, Role.OUTSOURCED_OPERATOR]).values("user_id")
    # notify() needs the id and the e-mail address only.
    return list(User.objects.filter(Q(pk__in=named) | Q(pk__in=members), is_active=True)
                .only("id", "email"))


def _notify_issued(directive_id: int) -> None:
    directive = RepostDirective.objects.filter(pk=directive_id).select_related(
        "organization").first()
    if directive is None:
        return
    with transaction.atomic():
        notify(recipients=_operators_of(Q(directive_id=directive_id)),
               organization=directive.organization, kind="moderation.directive_issued",
               message=_("Repost directive: %(title)s. Repost and confirm with the URL "
                         "before the deadline.") % {"title": directive.title},
               dedupe_key=f"directive-issued:{directive_id}",
               url=reverse("moderation:directive_detail", args=[directive_id]),
               target=directive)


@transaction.atomic
def target_confirm(*, target: DirectiveTarget, actor, repost_url: str) -> DirectiveTarget:
    target = DirectiveTarget.objects.select_for_update(of=("self",)).select_related(
        "organization", "platform").get(pk=target.pk)
    role = require(actor, Action.CHANGE, target.organization)
    operates = roles_of(actor, target.organization) & {
        Role.OPERATOR, Role.OUTSOURCED_OPERATOR
    } or MediaAccount.operators.through.objects.filter(
        mediaaccount_id=target.account_id, user_id=actor.pk).exists()
    if not operates:
        raise PermissionDenied(_("Only the operators of this account confirm its repost."),
                               code="not_operator")
    if target.confirmed_at is not None:
        raise Conflict(_("This repost has already been confirmed."), code="already_confirmed")
    if not (repost_url or "").startswith(("http://", "https://")) or len(repost_url) > 500:
        raise ValidationFailed(_("Give the URL of the repost."),
                               fields={"repost_url": [_("Enter a valid URL.")]})
    if not url_on_platform(target.platform, repost_url):
        message = _("This address is not on %(platform)s: give the URL of the repost on "
                    "the account's own platform.") % {"platform": target.platform.name}
        raise ValidationFailed(message, code="url_other_platform",
                               fields={"repost_url": [message]})
    target.confirmed_at = timezone.now()
    target.confirmed_by = actor
    target.repost_url = repost_url
    target.save(update_fields=["confirmed_at", "confirmed_by", "repost_url"])
    late = target.confirmed_at > target.due_at
    # The directive's stored counters, in this transaction (the row lock on the
    # target makes a second confirmation wait and then fail above).
    RepostDirective.objects.filter(pk=target.directive_id).update(
        confirmed_count=F("confirmed_count") + 1,
        late_count=F("late_count") + int(late),
        overdue_count=Greatest(F("overdue_count") - int(target.overdue_at is not None), 0),
    )
    audit_record(actor=actor, action="moderation.repost_confirm", target=target,
                 organization=target.organization, role=role,
                 after={"url": repost_url, "late": target.confirmed_at > target.due_at})
    return target


# pg_try_advisory_xact_lock key: one sweep at a time per database (released at commit).
SWEEP_LOCK_KEY = 0x6D6F6431  # "mod1"


def _sweep_lock() -> bool:
    """Caller is inside a transaction. SQLite serializes writers by itself (the
    settings open IMMEDIATE transactions); PostgreSQL takes an advisory lock."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SWEEP_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def _mark(now) -> tuple[int, int]:
    """The two set-based UPDATEs; each row is stamped with `now`, once."""
    open_ = Q(confirmed_at__isnull=True, overdue_at__isnull=True)
    overdue = DirectiveTarget.objects.filter(open_, due_at__lt=now).update(overdue_at=now)
    warned = DirectiveTarget.objects.filter(
        open_, warned_at__isnull=True, warn_at__lte=now).update(warned_at=now)
    return warned, overdue


def reposts_sweep(now=None) -> dict:
    """The once-a-minute sweep: mark targets due soon and overdue, in two set-based
    UPDATEs that stamp each row with this run's `now` (`warned_at` / `overdue_at`:
    the run's batch marker). The notifications follow in their own task
    (`moderation.notify_reposts_marked`, sent after commit with the marker), so the
    sweep holds its lock only for the marking.

    Idempotent: a second run finds nothing unmarked; the notification step is keyed
    by the marker (dedupe keys), so a re-run or a duplicate delivery sends nothing
    twice. Returns the counts marked."""
    now = now or timezone.now()
    with transaction.atomic():
        if not _sweep_lock():
            return {"skipped": True}
        warned, overdue = _mark(now)
        if overdue:
            directive_counters_refresh(
                DirectiveTarget.objects.filter(overdue_at=now).values("directive_id")
            )
        if warned or overdue:
            stamp = now.isoformat()
            transaction.on_commit(lambda: _send_notify_task(stamp))
    return {"warned": warned, "overdue": overdue}


def _reach(paths) -> set[str]:
    """Each path and every ancestor's (a materialized path less its last 4
    characters is the parent's)."""
    step = Organization.steplen
    return {p[:k] for p in paths for k in range(step, len(p) + 1, step)}


def directive_reach_build(directive_ids) -> int:
    """The reach rows of directives whose targets were written outside
    directive_issue (demo/scale_ops.py, the migration that introduced the table):
    one read of the distinct target paths, one insert; existing rows are kept."""
    by_directive: dict[int, set[str]] = {}
    for directive_id, path in (
        DirectiveTarget.objects.filter(directive_id__in=directive_ids)
        .order_by()
        .values_list("directive_id", "org_path")
        .distinct()
    ):
        by_directive.setdefault(directive_id, set()).add(path)
    rows = [
        DirectiveReach(directive_id=directive_id, path=path)
        for directive_id, paths in by_directive.items()
        for path in _reach(paths)
    ]
    DirectiveReach.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return len(rows)


def directive_counters_refresh(directive_ids) -> int:
    """Recount the stored counters of the directives `directive_ids` (ids or a
    values() subquery) from their targets: one UPDATE with correlated counts (each
    an index range of one directive's targets), exact whatever happened before.
    Called by the sweep for the directives it marked; also the repair for data
    written outside the services (demo/scale_ops.py, migrations)."""
    def count(**conditions):
        return Coalesce(
            Subquery(
                DirectiveTarget.objects.filter(directive=OuterRef("pk"), **conditions)
                .order_by()
                .values("directive")
                .annotate(n=Count("*"))
                .values("n")[:1]
            ),
            0,
        )

    return RepostDirective.objects.filter(pk__in=directive_ids).update(
        target_count=count(),
        confirmed_count=count(confirmed_at__isnull=False),
        late_count=count(confirmed_at__gt=F("due_at")),
        overdue_count=count(confirmed_at__isnull=True, overdue_at__isnull=False),
    )


def _send_notify_task(stamp: str) -> None:
    from moderation.tasks import notify_reposts_marked

    notify_reposts_marked.delay(stamp)


@transaction.atomic
def reposts_notify_marked(*, stamp: str) -> int:
    """The sweep's follow-up: notify the operators of the targets marked by the run
    whose marker is `stamp` (ISO time), and for overdue ones the issuing
    supervisors. Set-based: a fixed number of queries per kind (due soon, overdue),
    however many targets and directives. Returns how many notifications were new
    (0 on a repeat)."""
    now = datetime.fromisoformat(stamp)
    sent = 0
    for kind, field in (("overdue", "overdue_at"), ("due_soon", "warned_at")):
        marked = Q(**{field: now})
        if kind == "due_soon":
            marked &= Q(overdue_at__isnull=True)
        groups = list(DirectiveTarget.objects.filter(marked).values_list(
            "directive_id", "directive__title", "directive__organization_id")
            .order_by().distinct()[:2])
        if not groups:
            continue
        directive_id, title, org_id = groups[0]
        if len(groups) == 1:
            url = reverse("moderation:directive_detail", args=[directive_id])
            single = RepostDirective(pk=directive_id)  # a reference for the link only
        else:
            title, url, single = _("several directives"), reverse(
                "moderation:directive_list"), None
        # The notifications belong to the issuing organization (of the first
        # directive, when a run marks several).
        organization = Organization(pk=org_id)
        if kind == "overdue":
            message = _("Repost overdue: %(title)s. Repost now and confirm with the URL.")
        else:
            message = _("Repost due soon: %(title)s. Confirm with the URL before the deadline.")
        sent += notify(recipients=_operators_of(marked), organization=organization,
                       kind=f"moderation.repost_{kind}", message=message % {"title": title},
                       dedupe_key=f"repost-{kind}:{stamp}", url=url, target=single)
        if kind == "overdue":
            sent += notify(
                recipients=_supervisors_of_marked(marked), organization=organization,
                kind="moderation.repost_overdue_supervisor",
                message=_("Accounts have not reposted %(title)s in time.") % {"title": title},
                dedupe_key=f"repost-overdue-supervisor:{stamp}", url=url, target=single)
    return sent


def _supervisors_of_marked(marked: Q) -> list[User]:
    directives = RepostDirective.objects.filter(
        pk__in=DirectiveTarget.objects.filter(marked).values("directive_id"))
    members = Membership.objects.active().filter(
        organization_id__in=directives.values("organization_id"),
        role=Role.SUPERVISOR).values("user_id")
    return list(User.objects.filter(Q(pk__in=members) | Q(pk__in=directives.values(
        "issued_by_id")), is_active=True).only("id", "email"))


def directive_deadlines_recompute() -> int:
    """After a calendar edit: recompute the working-day deadlines of open targets
    (not confirmed, not yet overdue), from their directive's issue time. Registered
    with workcalendar (moderation.apps). Set-based: one UPDATE per distinct
    (directive, platform, calendar region) whose deadline changed. Minute-based
    deadlines do not depend on the calendar and are left alone. Returns the number
    of targets changed."""
    open_ = DirectiveTarget.objects.filter(confirmed_at__isnull=True, overdue_at__isnull=True)
    groups = list(
        open_.values_list("directive_id", "directive__issued_at", "directive__organization_id",
                          "platform_id", "account__region_code", "due_at", "provisional")
        .order_by().distinct()
    )
    if not groups:
        return 0
    rules = dict(RepostDirective.objects.filter(pk__in={g[0] for g in groups})
                 .values_list("pk", "deadline_rules"))
    # Directives issued before rules were recorded: the policies in force now.
    legacy_orgs = Organization.objects.in_bulk(
        {g[2] for g in groups if not rules.get(g[0])})
    legacy = {org_id: policies_for(org) for org_id, org in legacy_orgs.items()}
    changed = 0
    for directive_id, issued_at, org_id, platform_id, region, due_at, provisional in groups:
        if rules.get(directive_id):
            policy = rules[directive_id].get(str(platform_id))
            unit = policy[0] if policy else None
        else:
            policy = legacy[org_id].get(platform_id)
            unit = policy.unit if policy else None
        if unit != DeadlineUnit.WORKING_DAYS:
            continue
        due, warn, prov = _deadline(policy, issued_at, region)
        if due == due_at and prov == provisional:
            continue
        changed += open_.filter(
            directive_id=directive_id, platform_id=platform_id, account__region_code=region,
            due_at=due_at,
        ).update(due_at=due, warn_at=warn, provisional=prov)
    return changed
