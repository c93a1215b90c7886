"""Approvals expire when the scheduled publication time passes unpublished: the
periodic job marks them (set-based, audited, the author notified, idempotent), and
the post must go through review again."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from audit.models import AuditEvent
from common.errors import Conflict
from moderation import selectors
from moderation.models import PostStatus, SignOffSheet, StepStatus
from moderation.services import posts, review
from moderation.services.publication import post_mark_published
from notifications.models import Notification
from tests.moderation.factories import approve_all, make_post, submit

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
DRAFTED = datetime(2025, 3, 3, 9, 0, tzinfo=SH)
SCHEDULED = datetime(2025, 3, 3, 18, 0, tzinfo=SH)


def scheduled_post(ns, *, approve=True):
    with time_machine.travel(DRAFTED, tick=False):
        post = submit(make_post(ns, scheduled_at=SCHEDULED), ns)
        if approve:
            approve_all(post, ns)
        post.refresh_from_db()
    return post


def test_approved_post_expires_once_its_time_passes(world):
    ns = world.mine
    post = scheduled_post(ns)
    assert post.status == PostStatus.APPROVED
    with time_machine.travel(SCHEDULED, tick=False):
        assert review.post_approvals_expire() == 0  # not before the time has passed
    with time_machine.travel(SCHEDULED + timedelta(seconds=1), tick=False):
        assert review.post_approvals_expire() == 1
        post.refresh_from_db()
        assert post.status == PostStatus.EXPIRED and post.awaiting_role == ""
        event = AuditEvent.objects.get(action="moderation.approval_expire",
                                       target_id=str(post.pk))
        assert event.actor_id is None and event.organization_id == post.organization_id
        assert event.after["before"] == PostStatus.APPROVED
        note = Notification.objects.get(kind="moderation.approval_expired")
        assert note.recipient_id == post.author_id and str(post.pk) in note.url
        # Idempotent: a second run changes, audits and notifies nothing.
        assert review.post_approvals_expire() == 0
        assert AuditEvent.objects.filter(action="moderation.approval_expire").count() == 1
        assert Notification.objects.filter(kind="moderation.approval_expired").count() == 1


def test_post_in_review_expires_and_leaves_the_queue(world):
    ns = world.mine
    post = scheduled_post(ns, approve=False)
    with time_machine.travel(DRAFTED, tick=False):
        review.post_approve(post=post, actor=ns.users[Role.DEPARTMENT_HEAD])
    reviewer = ns.users[Role.CONFIDENTIALITY_REVIEWER]
    assert list(selectors.review_queue(reviewer)) == [post]
    with time_machine.travel(SCHEDULED + timedelta(minutes=3), tick=False):
        assert review.post_approvals_expire() == 1
    post.refresh_from_db()
    assert post.status == PostStatus.EXPIRED
    assert not post.steps.filter(status=StepStatus.PENDING).exists()
    assert post.steps.get(order=1).status == StepStatus.APPROVED  # history kept
    assert list(selectors.review_queue(reviewer)) == []


def test_other_posts_do_not_expire(world):
    ns = world.mine
    later = scheduled_post(ns)
    with time_machine.travel(DRAFTED, tick=False):
        unscheduled = approve_all(submit(make_post(ns), ns), ns)
        draft = make_post(ns, scheduled_at=SCHEDULED)
        published = scheduled_post(ns)
        post_mark_published(post=published, actor=published.author,
                            account=published.target_accounts.get(),
                            url="https://weibo.com/1/a")
    with time_machine.travel(SCHEDULED - timedelta(minutes=1), tick=False):
        assert review.post_approvals_expire() == 0
    with time_machine.travel(SCHEDULED + timedelta(days=3), tick=False):
        assert review.post_approvals_expire() == 1  # `later` only
    for p in (later, unscheduled, draft, published):
        p.refresh_from_db()
    statuses = {p.pk: p.status for p in (later, unscheduled, draft, published)}
    assert statuses == {later.pk: PostStatus.EXPIRED, unscheduled.pk: PostStatus.APPROVED,
                        draft.pk: PostStatus.DRAFT, published.pk: PostStatus.PUBLISHED}


def test_expired_post_goes_through_review_again(world):
    ns = world.mine
    post = scheduled_post(ns)
    first_sheet = SignOffSheet.objects.get(post=post)
    after = SCHEDULED + timedelta(minutes=10)
    with time_machine.travel(after, tick=False):
        review.post_approvals_expire()
        post.refresh_from_db()
        # Neither published, approved nor resubmitted as it stands.
        with pytest.raises(Conflict) as exc:
            post_mark_published(post=post, actor=post.author,
                                account=post.target_accounts.get(), url="https://weibo.com/x")
        assert exc.value.code == "not_approved"
        with pytest.raises(Conflict) as exc:
            review.post_approve(post=post, actor=ns.users[Role.DEPARTMENT_HEAD])
        assert exc.value.code == "not_in_review"
        with pytest.raises(Conflict) as exc:
            posts.post_submit(post=post, actor=post.author)
        assert exc.value.code == "not_draft"
        # The author sets a new time: a new revision, review starts again.
        posts.post_update(post=post, actor=post.author, scheduled_at=after + timedelta(days=1))
        post.refresh_from_db()
        assert post.status == PostStatus.DRAFT and post.current_revision.number == 2
        submit(post, ns)
        post = approve_all(post, ns)
        assert post.status == PostStatus.APPROVED and post.review_round == 2
        sheet = SignOffSheet.objects.get(post=post, revision=post.current_revision)
        assert sheet.pk != first_sheet.pk
        post_mark_published(post=post, actor=post.author, account=post.target_accounts.get(),
                            url="https://weibo.com/y")


def test_expiry_is_set_based(world):
    """The same number of queries for one post and for five."""
    ns = world.mine
    counts = []
    for n, day in ((1, 0), (5, 1)):
        with time_machine.travel(DRAFTED + timedelta(days=day), tick=False):
            for _ in range(n):
                submit(make_post(ns, scheduled_at=SCHEDULED + timedelta(days=day)), ns)
        with time_machine.travel(SCHEDULED + timedelta(days=day, minutes=1), tick=False):
            with CaptureQueriesContext(connection) as ctx:
                assert review.post_approvals_expire() == n
            counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_beat_runs_the_expiry_task():
    from config.celery import app
    from config.schedule import CELERY_BEAT_SCHEDULE

    entry = CELERY_BEAT_SCHEDULE["moderation-expire-approvals"]
    assert entry["task"] == "moderation.expire_approvals"
    app.loader.import_default_modules()
    assert "moderation.expire_approvals" in app.tasks
    assert "moderation.notify_reposts_marked" in app.tasks
