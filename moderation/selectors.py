"""Scoped reads of moderation: lists with constant query counts, the reviewer
queue, revision diffs, directive progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connections, router
from django.db.models import Count, F, Prefetch, Q
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from accounts.models import Membership, Role
from accounts.scoping import Action, scope_for
from moderation.models import (
    DirectiveTarget,
    Flag,
    Importance,
    Post,
    PostRevision,
    PostStatus,
    RepostDirective,
    ReviewRole,
    ReviewStep,
)
from registry.models import MediaAccount

REVIEW_ROLES = set(ReviewRole.values)


def post_list(user, *, mine: bool = False, status: str | None = None):
    qs = (
        Post.objects.visible_to(user, Action.VIEW)
        .select_related("organization", "author", "current_revision")
        .prefetch_related("target_accounts__platform")
    )
    if mine:
        qs = qs.filter(author=user)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def review_queue(user):
    """What waits on the user: in-review posts whose current step needs a role the
    user holds in the post's organization, never their own; posts on the emergency
    review path first, then oldest first.

    SECURITY: outsourced operators get nothing (they never review); the role is
    re-checked at decision time by the review service."""
    pairs = list(
        Membership.objects.active()
        .filter(user=user, role__in=REVIEW_ROLES)
        .values_list("organization_id", "role")
    )
    outsourced = set(
        Membership.objects.active()
        .filter(user=user, role=Role.OUTSOURCED_OPERATOR)
        .values_list("organization_id", flat=True)
    )
    from moderation.services.deputies import deputy_roles_of

    pairs += deputy_roles_of(user)  # appointed deputy (代签) for a role, today
    cond = Q()
    for org_id, role in pairs:
        if org_id not in outsourced:
            cond |= Q(organization_id=org_id, awaiting_role=role)
    if not cond:
        return Post.objects.none()
    from django.db.models import Case, IntegerField, Value, When

    return (
        Post.objects.filter(cond, status=PostStatus.IN_REVIEW)
        .exclude(author=user)
        .select_related("organization", "author", "current_revision")
        # Posts on the emergency review path first (moderation.emergency).
        .order_by(
            Case(When(event_ref="", then=Value(1)), default=Value(0),
                 output_field=IntegerField()),
            "submitted_at",
            "id",
        )
    )


def post_detail(user, pk: int) -> Post:
    from accounts.scoping import get_visible_or_404

    return get_visible_or_404(
        Post.objects.select_related("organization", "author", "current_revision", "corrects")
        .prefetch_related(
            "target_accounts__platform",
            "attachments",
            Prefetch("revisions", queryset=PostRevision.objects.select_related("created_by")),
            Prefetch("steps", queryset=ReviewStep.objects.select_related(
                "decided_by", "revision", "on_behalf_of")),
            "publications__account__platform",
            "signoffs__revision",
        ),
        user,
        pk=pk,
    )


def current_steps(post: Post) -> list[ReviewStep]:
    return [s for s in post.steps.all() if s.round == post.review_round]


# SECURITY: bounded work per request. difflib's SequenceMatcher is quadratic: a
# 20,000-character post held a web worker past its timeout. diff-match-patch (Myers'
# O(ND) with common prefix/suffix and half-match speed-ups) stops refining at the
# deadline and returns a coarser but still exact diff; bench/ measures it.
DIFF_TIMEOUT_SECONDS = 0.1


def revision_diff_html(old: str, new: str) -> str:
    """Character-level diff of two texts as HTML: <del> for removed, <ins> for added.
    Chinese has no word boundaries, so characters are the unit; the semantic clean-up
    merges fragments into readable runs."""
    from diff_match_patch import diff_match_patch

    dmp = diff_match_patch()
    dmp.Diff_Timeout = DIFF_TIMEOUT_SECONDS
    diffs = dmp.diff_main(old, new)
    dmp.diff_cleanupSemantic(diffs)
    out = []
    for op, text in diffs:
        if op == dmp.DIFF_EQUAL:
            out.append(escape(text))
        elif op == dmp.DIFF_DELETE:
            out.append(f"<del>{escape(text)}</del>")
        else:
            out.append(f"<ins>{escape(text)}</ins>")
    return mark_safe("".join(out).replace("\n", "<br>"))  # noqa: S308 - every part escaped


# The revision fields the diff compares besides the text, with their form labels.
DIFF_FIELDS = (
    ("title", _("Title")),
    ("column_tag", _("Column or topic")),
    ("importance", _("Importance")),
    ("is_repost", _("This is a repost")),
    ("repost_source", _("Repost source")),
    ("scheduled_at", _("Scheduled publication")),
    ("links", _("Links")),
    ("account_ids", _("Target accounts")),
    ("attachment_names", _("Attachments")),
)


def _add_displays(fields: list[dict]) -> None:
    """Readable values for the page (`from_display`, `to_display`): labels instead of
    codes, account names instead of ids (one query, only when the accounts changed)."""
    names = {}
    accounts = [f for f in fields if f["field"] == "account_ids"]
    if accounts:
        ids = set(accounts[0]["from"] or []) | set(accounts[0]["to"] or [])
        names = {pk: f"{name} · {platform}" for pk, name, platform in
                 MediaAccount.objects.filter(pk__in=ids)
                 .values_list("pk", "display_name", "platform__name")}

    def show(name, value) -> str:
        if value in (None, "", []):
            return "—"
        if name == "importance":
            return str(Importance(value).label) if value in Importance.values else value
        if name == "is_repost":
            return str(_("Yes") if value else _("No"))
        if name == "scheduled_at":
            return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
        separator = pgettext("list separator", ", ")
        if name == "account_ids":
            return separator.join(names.get(pk, f"#{pk}") for pk in value)
        if isinstance(value, list):
            return separator.join(str(v) for v in value)
        return str(value)

    for f in fields:
        f["from_display"] = show(f["field"], f["from"])
        f["to_display"] = show(f["field"], f["to"])


def revision_pair_diff(post: Post, from_number: int | None, to_number: int | None) -> dict:
    revisions = {r.number: r for r in post.revisions.all()}
    if not revisions:
        return {}
    to_number = to_number if to_number in revisions else max(revisions)
    if from_number not in revisions:
        # Default: what changed since the last revision a reviewer approved, or the
        # previous revision.
        approved = [s.revision.number for s in post.steps.all()
                    if s.status == "approved" and s.revision.number < to_number]
        from_number = max(approved) if approved else max(to_number - 1, min(revisions))
    old, new = revisions[from_number], revisions[to_number]
    fields = []
    for name, label in DIFF_FIELDS:
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            fields.append({"field": name, "from": a, "to": b, "label": str(label)})
    _add_displays(fields)
    return {
        "from": from_number,
        "to": to_number,
        "html": revision_diff_html(old.text, new.text),
        "fields": fields,
    }


def directive_list(user, *, mine: bool = False):
    """Directives the user sees: those issued in their scope and those targeting
    accounts in it (RepostDirective.objects.visible_to). `targets_seen` and
    `confirmed` count only the targets the user sees, so an operator reads the
    progress of their own accounts, a supervisor that of their jurisdiction. The
    user's own directives come first (`own`), then the newest."""
    from django.db.models import Case, IntegerField, Value, When

    seen = scope_for(user, Action.VIEW).q("targets__org_path")
    qs = RepostDirective.objects.visible_to(user)
    if mine:
        qs = qs.filter(issued_by=user)
    return (
        qs.select_related("organization", "issued_by")
        .annotate(
            own=Case(When(issued_by=user, then=Value(1)), default=Value(0),
                     output_field=IntegerField()),
            targets_seen=Count("targets", filter=seen),
            confirmed=Count("targets", filter=seen & Q(targets__confirmed_at__isnull=False)),
            # Overdue as the minute's sweep marks it: the same definition as the
            # directives' stored counters (directive_page).
            open_overdue=Count("targets", filter=seen & Q(
                targets__confirmed_at__isnull=True, targets__overdue_at__isnull=False)),
        )
        .order_by("-own", "-id")
    )


@dataclass
class DirectiveRow:
    """What a line of the directive list shows (directive_page): read with values(),
    no model instance per directive, its organization or its issuer."""

    pk: int
    title: str
    issued_at: datetime
    organization_name: str
    own: int
    targets_seen: int = 0
    confirmed: int = 0
    open_overdue: int = 0

    @property
    def id(self) -> int:
        return self.pk


def directive_page(user, number, per_page: int = 30, *, mine: bool = False):
    """One page of directive_list (own first, then newest), ids first (issue 9).

    The page's directives and the total come from one query (COUNT(*) OVER ()
    beside the page's ids), each with its issuing organization's name. A directive
    issued inside one of the user's subtrees has all its targets there (targets are
    chosen under the issuing organization), so its counts are the directive's
    stored counters (overdue: as marked by the minute's sweep); the others are
    counted with the scope filter, as in directive_list (one GROUP BY, sent only
    when the page holds such directives). With the memberships: two queries, three
    with the GROUP BY; a page number past the end or below 1 adds the count and the
    last page (get_page's answer), a word asks for the first page.

    On PostgreSQL these are plain SQL statements built from the user's scope
    (RepostDirective.objects.visible_to_sql): building and compiling the ORM's
    queries cost several times what the database took to answer them (issue 9).
    Elsewhere (SQLite, the embedded default) the ORM sends the same reads. The page
    holds DirectiveRow values, not model instances."""
    from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator

    db = router.db_for_read(RepostDirective)
    reads = (_DirectiveSql if connections[db].vendor == "postgresql" else _DirectiveOrm)(
        user, mine, db)
    paginator = Paginator((), per_page)
    # A page past the end (or an empty list) has no row to carry the total: then
    # the list is counted and the last page read, as get_page does.
    try:
        asked = int(number)
    except (TypeError, ValueError):
        asked = 1
    found, total = [], None
    if asked >= 1:  # below 1: get_page's answer (the last page)
        found, total = reads.page((asked - 1) * paginator.per_page, paginator.per_page)
    if found:
        paginator.count = total  # a cached_property: set, not counted
    else:
        paginator.count = reads.count()
        try:
            asked = paginator.validate_number(number)
        except PageNotAnInteger:
            asked = 1
        except EmptyPage:
            asked = paginator.num_pages
        if paginator.count:
            found, _total = reads.page((asked - 1) * paginator.per_page, paginator.per_page)
    roots = scope_for(user, Action.VIEW).subtree_paths
    rows, stored = [], {}
    for pk, own, title, issued_at, org_name, org_path, *counters in found:
        rows.append(DirectiveRow(pk, title, issued_at, org_name, int(own)))
        # The stored counters (kept by the confirmation and the sweep): no target
        # is read for these.
        if roots and org_path.startswith(roots):
            stored[pk] = counters
    rest = [row.pk for row in rows if row.pk not in stored]
    if rest:
        stored.update(reads.counted(rest))
    for row in rows:
        row.targets_seen, row.confirmed, row.open_overdue = stored.get(row.pk, (0, 0, 0))
    return Page(rows, asked, paginator)


class _DirectiveSql:
    """directive_page's reads on PostgreSQL, in plain SQL. SECURITY: every read
    is bounded by visible_to_sql (the rule of RepostDirective.objects.visible_to)
    and the counts by the user's scope, as in directive_list."""

    def __init__(self, user, mine: bool, db: str):
        self.user, self.db = user, db
        # Nothing to ask for a user who sees nothing (as the ORM sends no query).
        self.empty = scope_for(user, Action.VIEW).is_empty
        self.where, self.params = RepostDirective.objects.visible_to_sql(user, "d")
        if mine:
            self.where += " AND d.issued_by_id = %s"
            self.params = [*self.params, user.pk]

    def _rows(self, sql: str, params: list) -> list[tuple]:
        if self.empty:
            return []
        with connections[self.db].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def page(self, offset: int, limit: int) -> tuple[list[tuple], int | None]:
        found = self._rows(
            "SELECT p.id, p.own, d.title, d.issued_at, o.name, d.org_path, "
            "d.target_count, d.confirmed_count, d.overdue_count, p.total FROM ("
            "SELECT d.id, d.issued_by_id = %s AS own, count(*) OVER () AS total "
            f"FROM moderation_repostdirective d WHERE {self.where} "
            "ORDER BY own DESC, d.id DESC LIMIT %s OFFSET %s) p "
            "JOIN moderation_repostdirective d ON d.id = p.id "
            "JOIN accounts_organization o ON o.id = d.organization_id "
            "ORDER BY p.own DESC, p.id DESC",
            [self.user.pk, *self.params, limit, offset],
        )
        return [row[:-1] for row in found], (found[0][-1] if found else None)

    def count(self) -> int:
        found = self._rows(
            f"SELECT count(*) FROM moderation_repostdirective d WHERE {self.where}",
            self.params,
        )
        return found[0][0] if found else 0

    def counted(self, pks: list[int]) -> dict[int, tuple[int, int, int]]:
        seen, params = scope_for(self.user, Action.VIEW).sql("t.org_path")
        return {
            pk: counters
            for pk, *counters in self._rows(
                "SELECT t.directive_id, count(*), count(t.confirmed_at), "
                "count(*) FILTER (WHERE t.confirmed_at IS NULL AND t.overdue_at IS NOT "
                "NULL) FROM moderation_directivetarget t WHERE t.directive_id = ANY(%s) "
                f"AND {seen} GROUP BY t.directive_id",
                [pks, *params],
            )
        }


class _DirectiveOrm:
    """directive_page's reads through the ORM (SQLite): the same rows."""

    def __init__(self, user, mine: bool, db: str):
        from django.db.models import Case, IntegerField, Value, When

        self.user = user
        qs = RepostDirective.objects.visible_to(user)
        if mine:
            qs = qs.filter(issued_by=user)
        # The user's own directives first (issue 13), then the newest.
        self.ordered = qs.annotate(
            own=Case(When(issued_by=user, then=Value(1)), default=Value(0),
                     output_field=IntegerField())
        ).order_by("-own", "-id")

    def page(self, offset: int, limit: int) -> tuple[list[tuple], int | None]:
        from django.db.models import Window

        head = list(
            self.ordered.annotate(total=Window(Count("*")))
            .values_list("pk", "own", "total")[offset : offset + limit]
        )
        if not head:
            return [], None
        rows = {
            pk: rest
            for pk, *rest in RepostDirective.objects.filter(
                pk__in=[pk for pk, _own, _total in head]
            ).values_list(
                "pk", "title", "issued_at", "organization__name", "org_path",
                "target_count", "confirmed_count", "overdue_count",
            )
        }
        return [(pk, own, *rows[pk]) for pk, own, _total in head if pk in rows], head[0][2]

    def count(self) -> int:
        return self.ordered.count()

    def counted(self, pks: list[int]) -> dict[int, tuple[int, int, int]]:
        return {
            pk: counters
            for pk, *counters in directive_list(self.user)
            .filter(pk__in=pks)
            .values_list("pk", "targets_seen", "confirmed", "open_overdue")
        }


def directive_progress(directive: RepostDirective, user) -> dict:
    """Completion by organization, in one aggregate query over the targets the user
    may see."""
    now = timezone.now()
    rows = (
        DirectiveTarget.objects.visible_to(user)
        .filter(directive=directive)
        .values("organization_id", "organization__name", "organization__path")
        .annotate(
            total=Count("id"),
            confirmed=Count("id", filter=Q(confirmed_at__isnull=False)),
            late=Count("id", filter=Q(confirmed_at__isnull=False, confirmed_at__gt=F("due_at"))),
            overdue=Count("id", filter=Q(confirmed_at__isnull=True, due_at__lt=now)),
        )
        .order_by("organization__path")  # the tree's order: a province before its cities
    )
    by_org = [
        {"organization": r["organization_id"], "name": r["organization__name"],
         "total": r["total"], "confirmed": r["confirmed"], "late": r["late"],
         "overdue": r["overdue"]}
        for r in rows
    ]
    total = sum(r["total"] for r in by_org)
    confirmed = sum(r["confirmed"] for r in by_org)
    return {
        "directive": directive.pk,
        "total": total,
        "confirmed": confirmed,
        "overdue": sum(r["overdue"] for r in by_org),
        "percent": round(100 * confirmed / total, 1) if total else 0.0,
        "organizations": by_org,
        "as_of": now.isoformat(),
    }


def my_targets(user):
    """Open directive targets on accounts of the user's own organizations."""
    return (
        DirectiveTarget.objects.visible_to(user, Action.CHANGE)
        .select_related("directive", "account__platform", "organization")
        .order_by("confirmed_at", "due_at")
    )


def flag_list(user, *, open_only: bool = True):
    qs = Flag.objects.visible_to(user).select_related(
        "organization", "published_post__account__platform", "resolved_by")
    if open_only:
        qs = qs.filter(resolved_at__isnull=True)
    return qs.order_by("-id")


OPERATING_ROLES = (Role.OPERATOR, Role.OUTSOURCED_OPERATOR)


def operated_accounts_q(user, prefix: str = "account__") -> Q:
    """Accounts the user operates: named among the account's operators, or holding an
    operator role in the account's organization (the same people the directive
    notifications reach). Built from the memberships cached on the user: no query."""
    from accounts.scoping import memberships_of

    orgs = [m.organization_id for m in memberships_of(user) if m.role in OPERATING_ROLES]
    cond = Q(**{f"{prefix}operators": user})
    if orgs:
        cond |= Q(**{f"{prefix}organization_id__in": orgs})
    return cond


def targets_to_repost(user):
    """Open directive targets on accounts the user operates, overdue first."""
    ids = DirectiveTarget.objects.filter(operated_accounts_q(user), confirmed_at__isnull=True)
    return (
        DirectiveTarget.objects.visible_to(user, Action.CHANGE)
        .filter(pk__in=ids.values("pk"))
        .select_related("directive", "account__platform", "organization")
        .order_by("due_at", "id")
    )


PROGRESS_SORTS = {
    "name": lambda r: r["path"],
    "percent": lambda r: (r["percent"], r["path"]),
    "overdue": lambda r: (-r["overdue"], r["path"]),
    "open": lambda r: (-(r["total"] - r["confirmed"]), r["path"]),
}


def _counts(now):
    return {
        "total": Count("id"),
        "confirmed": Count("id", filter=Q(confirmed_at__isnull=False)),
        "late": Count("id", filter=Q(confirmed_at__isnull=False, confirmed_at__gt=F("due_at"))),
        "overdue": Count("id", filter=Q(confirmed_at__isnull=True, due_at__lt=now)),
    }


def _rate(row: dict) -> dict:
    row["open"] = row["total"] - row["confirmed"]
    row["percent"] = round(100 * row["confirmed"] / row["total"], 1) if row["total"] else 0.0
    return row


def directive_rollup(directive: RepostDirective, user, *, at=None, sort: str = "name") -> dict:
    """Completion rolled up one level below `at` (default: the directive's
    organization): one row per child organization with the totals of its whole
    subtree, a row for `at` itself when it has targets of its own, the totals, and
    the subtotals by level (province, city, county, township). Three queries
    whatever the number of targets: the level subtotals, the roll-up, the children.

    `at` must be visible to the user (the caller checks); rows count only the targets
    the user may see."""
    from django.db.models.functions import Substr

    from accounts.models import Level, Organization

    now = timezone.now()
    at = at or directive.organization
    base = DirectiveTarget.objects.visible_to(user).filter(directive=directive)
    by_level = {
        r["organization__level"]: _rate(r)
        for r in base.order_by().values("organization__level").annotate(**_counts(now))
    }
    levels = [
        {"level": value, "label": label, **by_level[value]}
        for value, label in Level.choices if value in by_level
    ]
    child_len = len(at.path) + Organization.steplen
    rows = list(
        base.filter(org_path__startswith=at.path)
        .order_by()
        .annotate(prefix=Substr("org_path", 1, child_len))
        .values("prefix")
        .annotate(**_counts(now))
    )
    children = {
        o.path: o
        for o in Organization.objects.filter(
            path__in=[r["prefix"] for r in rows if len(r["prefix"]) == child_len]
        )
    }
    out = []
    for r in rows:
        org = at if r["prefix"] == at.path else children.get(r["prefix"])
        if org is None:
            continue
        out.append(_rate({
            "organization": org.pk, "name": org.name, "path": org.path,
            "level": org.get_level_display(), "own": org.pk == at.pk,
            "drillable": org.pk != at.pk and not org.is_leaf(),
            **{k: r[k] for k in ("total", "confirmed", "late", "overdue")},
        }))
    key = PROGRESS_SORTS.get(sort, PROGRESS_SORTS["name"])
    out.sort(key=key)
    totals = _rate({k: sum(r[k] for r in out) for k in ("total", "confirmed", "late",
                                                        "overdue")})
    return {"at": at, "rows": out, "totals": totals, "levels": levels,
            "sort": sort if sort in PROGRESS_SORTS else "name", "as_of": now}


def review_chains() -> list[dict]:
    """Who reviews a post of each importance, in order (REVIEW_CHAIN), for the
    editor to show before the importance is chosen."""
    from moderation.models import REVIEW_CHAIN

    return [
        {"importance": value, "label": label,
         "steps": [ReviewRole(r).label for r in REVIEW_CHAIN[value]]}
        for value, label in Importance.choices
    ]


def deputy_list(user, action: Action = Action.VIEW):
    """The deputies page's rows (and its export's): appointments in the organizations
    the user belongs to, as far as `action` lets the user see them, latest first."""
    from accounts.scoping import memberships_of
    from moderation.models import ReviewDeputy

    org_ids = [m.organization_id for m in memberships_of(user)]
    return (
        ReviewDeputy.objects.visible_to(user, action)
        .filter(organization_id__in=org_ids)
        .order_by("-starts_on", "-id")
    )
