"""Workbench cards of moderation (common.workbench): each provider runs one
aggregate query (the reviewer's queue two more, for the user's review roles)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Role
from accounts.navigation import REVIEWER_ROLES
from accounts.scoping import Action, scope_for
from common.workbench import (
    STATE_DONE,
    STATE_DUE,
    STATE_OVERDUE,
    Card,
    register,
    state_for,
)
from moderation import selectors
from moderation.models import DirectiveTarget, Flag, Post, PostStatus

DUE_SOON = timedelta(hours=24)


def _overdue(n: int) -> str:
    return ngettext("%(n)d overdue", "%(n)d overdue", n) % {"n": n} if n else ""


def my_posts(user) -> list[Card]:
    counts = (
        Post.objects.visible_to(user, Action.CHANGE)
        .filter(author=user)
        .order_by()
        .aggregate(
            drafts=Count("pk", filter=Q(status=PostStatus.DRAFT)),
            returned=Count("pk", filter=Q(status=PostStatus.CHANGES_REQUESTED)),
            in_review=Count("pk", filter=Q(status=PostStatus.IN_REVIEW)),
        )
    )
    posts = reverse("moderation:post_list")

    def link(status):
        return f"{posts}?{urlencode({'mine': '1', 'status': status})}"

    return [
        Card("drafts", _("My drafts"), counts["drafts"], url=link(PostStatus.DRAFT),
             state=STATE_DUE if counts["drafts"] else STATE_DONE, order=20),
        Card("returned", _("Returned for changes"), counts["returned"],
             url=link(PostStatus.CHANGES_REQUESTED),
             state=STATE_OVERDUE if counts["returned"] else STATE_DONE, order=21),
        Card("in_review", _("My posts in review"), counts["in_review"],
             url=link(PostStatus.IN_REVIEW), order=22),
    ]


def reposts_to_do(user) -> list[Card]:
    now = timezone.now()
    counts = selectors.targets_to_repost(user).order_by().aggregate(
        open=Count("pk"),
        overdue=Count("pk", filter=Q(due_at__lt=now)),
        soon=Count("pk", filter=Q(due_at__gte=now, due_at__lt=now + DUE_SOON)),
    )
    detail = _overdue(counts["overdue"])
    if counts["soon"]:
        soon = ngettext("%(n)d due within 24 hours", "%(n)d due within 24 hours",
                        counts["soon"]) % {"n": counts["soon"]}
        detail = f"{detail}{_(', ') if detail else ''}{soon}"
    return [
        Card("reposts", _("Reposts to do"), counts["open"],
             url=reverse("moderation:directive_list") + "#to-repost",
             state=state_for(overdue=counts["overdue"], total=counts["open"]),
             detail=detail, order=10)
    ]


def review_waiting(user) -> list[Card]:
    head = selectors.review_queue(user).order_by().aggregate(n=Count("pk"),
                                                            oldest=Min("submitted_at"))
    detail = ""
    if head["oldest"]:
        hours = int((timezone.now() - head["oldest"]).total_seconds() // 3600)
        if hours >= 24:
            detail = ngettext("oldest waits %(n)d day", "oldest waits %(n)d days",
                              hours // 24) % {"n": hours // 24}
        else:
            detail = ngettext("oldest waits %(n)d hour", "oldest waits %(n)d hours",
                              hours) % {"n": hours}
    return [
        Card("review_waiting", _("Posts waiting for my review"), head["n"],
             url=reverse("moderation:queue"),
             state=state_for(overdue=int(bool(head["oldest"]) and
                                         timezone.now() - head["oldest"] > timedelta(days=1)),
                             total=head["n"]),
             detail=detail, order=5)
    ]


def directives_issued(user) -> list[Card]:
    """Completion of the directives issued in the supervisor's jurisdiction."""
    now = timezone.now()
    scope = scope_for(user, Action.CHANGE)
    counts = (
        DirectiveTarget.objects.filter(scope.q("directive__org_path"))
        .filter(directive__issued_by=user)
        .order_by()
        .aggregate(total=Count("pk"),
                   confirmed=Count("pk", filter=Q(confirmed_at__isnull=False)),
                   overdue=Count("pk", filter=Q(confirmed_at__isnull=True, due_at__lt=now)))
    )
    total, confirmed = counts["total"], counts["confirmed"]
    rate = round(100 * confirmed / total) if total else 100
    return [
        Card("directives_issued", _("My directives: reposts outstanding"),
             total - confirmed, url=reverse("moderation:directive_list") + "?mine=1",
             state=state_for(overdue=counts["overdue"], total=total - confirmed),
             detail=_("%(rate)d%% reposted (%(done)d of %(total)d)")
             % {"rate": rate, "done": confirmed, "total": total}
             + (_(", ") + _overdue(counts["overdue"]) if counts["overdue"] else ""),
             order=30)
    ]


def flags_open(user) -> list[Card]:
    n = Flag.objects.visible_to(user).filter(resolved_at__isnull=True).order_by().count()
    return [Card("flags", _("Open flags"), n, url=reverse("moderation:flag_list"),
                 state=STATE_OVERDUE if n else STATE_DONE, order=35)]


def register_cards() -> None:
    writers = {Role.OPERATOR, Role.OUTSOURCED_OPERATOR, Role.LIAISON, Role.DEPARTMENT_HEAD}
    register("my_posts", provider=my_posts, roles=writers, order=20)
    register("reposts", provider=reposts_to_do,
             roles={Role.OPERATOR, Role.OUTSOURCED_OPERATOR}, order=10)
    register("review_waiting", provider=review_waiting, roles=REVIEWER_ROLES, order=5)
    register("directives_issued", provider=directives_issued, roles={Role.SUPERVISOR},
             order=30)
    register("flags", provider=flags_open, roles={Role.SUPERVISOR}, order=35)
