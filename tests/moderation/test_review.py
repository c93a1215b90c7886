"""Tiered review: who may decide, in what order, on which revision."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Role
from common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from moderation.models import Importance, PostStatus, SignOffSheet, StepStatus
from moderation.services import posts, review
from moderation.signoff import signoff_pdf, signoff_rows
from notifications.models import Notification
from tests.factories import make_user
from tests.moderation.factories import approve_all, make_account, make_post, submit

pytestmark = pytest.mark.django_db


def test_steps_follow_importance(world):
    ns = world.mine
    for importance, roles in [
        (Importance.GENERAL, ["department_head", "confidentiality_reviewer"]),
        (Importance.IMPORTANT, ["department_head", "leader_in_charge",
                                "confidentiality_reviewer"]),
        (Importance.MAJOR, ["department_head", "leader_in_charge", "principal_leader",
                            "confidentiality_reviewer"]),
    ]:
        post = submit(make_post(ns, importance=importance), ns)
        assert [s.role for s in post.steps.order_by("order")] == roles
        assert post.awaiting_role == "department_head"


def test_full_approval_makes_signoff_sheet(world):
    ns = world.mine
    post = approve_all(submit(make_post(ns, importance=Importance.IMPORTANT), ns), ns)
    assert post.status == PostStatus.APPROVED
    sheet = SignOffSheet.objects.get(post=post)
    rows = signoff_rows(sheet)
    assert [r.role for r in rows] == ["department_head", "leader_in_charge",
                                      "confidentiality_reviewer"]
    assert all(r.decided_by and r.decided_at for r in rows)
    pdf = signoff_pdf(sheet)
    assert pdf.startswith(b"%PDF") and b"/FontFile" in pdf  # the font is embedded


def test_self_approval_refused(world):
    ns = world.mine
    head = ns.users[Role.DEPARTMENT_HEAD]
    make_user(ns.city_dept, Role.DEPARTMENT_HEAD)  # someone else can review it
    post = submit(make_post(ns, author=head), ns)
    with pytest.raises(PermissionDenied) as exc:
        review.post_approve(post=post, actor=head)
    assert exc.value.code == "self_review"
    post.refresh_from_db()
    assert post.steps.get(order=1).status == StepStatus.PENDING


def test_outsourced_operator_cannot_approve_even_holding_the_role(world):
    ns = world.mine
    outsourced = ns.users[Role.OUTSOURCED_OPERATOR]
    from accounts.services import membership_grant

    membership_grant(actor=None, user=outsourced, organization=ns.city_dept,
                     role=Role.DEPARTMENT_HEAD)
    from accounts.models import User

    outsourced = User.objects.get(pk=outsourced.pk)
    post = submit(make_post(ns), ns)
    with pytest.raises(PermissionDenied) as exc:
        review.post_approve(post=post, actor=outsourced)
    assert exc.value.code == "outsourced_cannot_review"


def test_role_in_another_organization_does_not_count(world):
    ns = world.mine
    county_head = make_user(ns.county_dept, Role.DEPARTMENT_HEAD)
    post = submit(make_post(ns), ns)
    with pytest.raises(NotFound):
        review.post_approve(post=post, actor=county_head)
    post.refresh_from_db()
    assert post.awaiting_role == "department_head"


def test_out_of_order_and_twice_are_conflicts_without_change(world):
    ns = world.mine
    post = submit(make_post(ns, importance=Importance.IMPORTANT), ns)
    with pytest.raises(Conflict) as exc:
        review.post_approve(post=post, actor=ns.users[Role.LEADER_IN_CHARGE],
                            step_role="leader_in_charge")
    assert exc.value.code == "out_of_order"
    review.post_approve(post=post, actor=ns.users[Role.DEPARTMENT_HEAD],
                        step_role="department_head")
    with pytest.raises(Conflict) as exc:
        review.post_approve(post=post, actor=ns.users[Role.DEPARTMENT_HEAD],
                            step_role="department_head")
    assert exc.value.code == "already_decided"
    post.refresh_from_db()
    assert post.awaiting_role == "leader_in_charge"
    assert post.steps.filter(status=StepStatus.APPROVED).count() == 1


def test_edit_after_approval_restarts_review(world):
    ns = world.mine
    post = approve_all(submit(make_post(ns), ns), ns)
    assert post.status == PostStatus.APPROVED
    post = posts.post_update(post=post, actor=post.author, text="今天召开全县安全生产工作会议（修订）。")
    assert post.status == PostStatus.DRAFT
    assert post.current_revision.number == 2
    submit(post, ns)
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert post.awaiting_role == "department_head"
    current = post.steps.filter(round=post.review_round)
    assert not current.filter(status=StepStatus.APPROVED).exists()
    # Publishing is refused until the new revision is approved again.
    from moderation.services.publication import post_mark_published

    with pytest.raises(Conflict):
        post_mark_published(post=post, actor=post.author, account=post.target_accounts.first(),
                            url="https://weibo.com/1/2")
    approve_all(post, ns)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    assert SignOffSheet.objects.filter(post=post).count() == 2


def test_edit_during_review_invalidates_pending_decisions(world):
    ns = world.mine
    post = submit(make_post(ns, importance=Importance.IMPORTANT), ns)
    review.post_approve(post=post, actor=ns.users[Role.DEPARTMENT_HEAD])
    posts.post_update(post=post, actor=post.author, text="改过的正文。")
    with pytest.raises(Conflict):
        review.post_approve(post=post, actor=ns.users[Role.LEADER_IN_CHARGE])


def test_stale_revision_is_refused(world):
    ns = world.mine
    post = submit(make_post(ns), ns)
    with pytest.raises(Conflict) as exc:
        review.post_approve(post=post, actor=ns.users[Role.DEPARTMENT_HEAD], revision_number=7)
    assert exc.value.code == "stale_revision"


def test_reject_and_request_changes_carry_comment_to_author(world):
    ns = world.mine
    post = submit(make_post(ns), ns)
    with pytest.raises(ValidationFailed):
        review.post_request_changes(post=post, actor=ns.users[Role.DEPARTMENT_HEAD], comment="")
    review.post_request_changes(post=post, actor=ns.users[Role.DEPARTMENT_HEAD],
                                comment="标题要改")
    post.refresh_from_db()
    assert post.status == PostStatus.CHANGES_REQUESTED
    note = Notification.objects.get(recipient=post.author, kind="moderation.post_request_changes")
    assert "标题要改" in note.message
    # The author fixes and resubmits; a new round starts.
    posts.post_update(post=post, actor=post.author, title="新标题")
    submit(post, ns)
    review.post_reject(post=post, actor=ns.users[Role.DEPARTMENT_HEAD], comment="不宜发布")
    post.refresh_from_db()
    assert post.status == PostStatus.REJECTED
    assert Notification.objects.filter(recipient=post.author,
                                       kind="moderation.post_reject").exists()
    with pytest.raises(Conflict):
        posts.post_update(post=post, actor=post.author, text="再改")


def test_approval_expires_when_scheduled_time_passes(world):
    ns = world.mine
    soon = timezone.now() + timedelta(hours=1)
    post = submit(make_post(ns, scheduled_at=soon), ns)
    review.post_approve(post=post, actor=ns.users[Role.DEPARTMENT_HEAD])
    with time_machine.travel(soon + timedelta(minutes=1)):
        with pytest.raises(Conflict) as exc:
            review.post_approve(post=post, actor=ns.users[Role.CONFIDENTIALITY_REVIEWER])
        assert exc.value.code == "approval_expired"


def test_approved_post_cannot_be_published_after_schedule_passes(world):
    from moderation.services.publication import post_mark_published

    ns = world.mine
    soon = timezone.now() + timedelta(hours=1)
    post = approve_all(submit(make_post(ns, scheduled_at=soon), ns), ns)
    with time_machine.travel(soon + timedelta(minutes=1)):
        with pytest.raises(Conflict) as exc:
            post_mark_published(post=post, actor=post.author,
                                account=post.target_accounts.first(), url="https://weibo.com/x")
        assert exc.value.code == "approval_expired"


def test_foreign_and_inactive_accounts_refused(world):
    ns = world.mine
    operator = ns.users[Role.OPERATOR]
    other_dept = make_account(ns.county_dept)
    foreign = make_account(world.other.city_dept)
    inactive = make_account(ns.city_dept, status="suspended")
    for account, code in [(other_dept, "unknown_account"), (foreign, "unknown_account"),
                          (inactive, "inactive_account")]:
        with pytest.raises(ValidationFailed) as exc:
            posts.post_create(actor=operator, organization=ns.city_dept, text="正文",
                              account_ids=[account.pk])
        assert exc.value.code == code
    # A supervisor does not draft for a department (DOMAIN rule 10).
    supervisor = ns.users[Role.SUPERVISOR]
    with pytest.raises(PermissionDenied) as exc:
        posts.post_create(actor=supervisor, organization=ns.city_dept, text="正文",
                          account_ids=[other_dept.pk])
    assert exc.value.code == "not_a_drafter"


def test_oversized_text_refused(world):
    ns = world.mine
    with pytest.raises(ValidationFailed) as exc:
        make_post(ns, text="字" * (posts.MAX_TEXT_LENGTH + 1))
    assert "text" in exc.value.fields
