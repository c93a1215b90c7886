"""Review integrity (DOMAIN rule 10): only drafters draft; a review that needs a
vacant role is refused up front; a sole holder of two review roles decides both
steps, recorded as such; a reviewer may raise a post's importance, never lower it."""

from __future__ import annotations

import pytest
from django.utils.translation import override

from accounts.models import Level, OrgKind, Role
from accounts.services import membership_grant
from audit.models import AuditEvent
from common.errors import PermissionDenied, ValidationFailed
from moderation.models import Importance, PostStatus, ReviewStep
from moderation.services import posts, review
from tests.factories import make_org, make_user
from tests.moderation.factories import approve_all, make_account, make_post, submit

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "role", [Role.SUPERVISOR, Role.LIAISON, Role.LEADER_IN_CHARGE, Role.CONFIDENTIALITY_REVIEWER]
)
def test_only_drafter_roles_draft(world, role):
    """DOMAIN rule 10: supervisors, liaisons and reviewers do not draft for a
    department; the refusal is a 403 before any field is looked at."""
    ns = world.mine
    account = make_account(ns.city_dept)
    with pytest.raises(PermissionDenied) as exc:
        posts.post_create(actor=ns.users[role], organization=ns.city_dept, text="",
                          account_ids=[account.pk])
    assert exc.value.code == "not_a_drafter"


def test_a_review_needing_a_vacant_role_is_refused_naming_it(world):
    """DOMAIN rule 10: every item passes a confidentiality review; where nobody holds
    that role the submission is refused with the role named, nothing changes."""
    ns = world.mine
    dept = make_org(ns.county, "甲一县水利局", kind=OrgKind.DEPARTMENT)
    author = make_user(dept, Role.OPERATOR)
    make_user(dept, Role.DEPARTMENT_HEAD)
    account = make_account(dept)
    post = posts.post_create(actor=author, organization=dept, text="今天召开防汛工作会议。",
                             account_ids=[account.pk])
    with override("en"), pytest.raises(ValidationFailed) as exc:
        posts.post_submit(post=post, actor=author)
    assert exc.value.code == "reviewer_vacant"
    assert "Confidentiality reviewer" in str(exc.value.message)
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT and not ReviewStep.objects.filter(post=post).exists()


def test_a_sole_holder_of_two_review_roles_decides_both_steps(world):
    """DOMAIN rule 10: in a township where one person is department head and
    confidentiality reviewer, that person decides both steps, recorded as such."""
    ns = world.mine
    township = make_org(ns.county, "甲一镇人民政府", level=Level.TOWNSHIP)
    author = make_user(township, Role.OPERATOR)
    reviewer = make_user(township, Role.DEPARTMENT_HEAD)
    membership_grant(actor=None, user=reviewer, organization=township,
                     role=Role.CONFIDENTIALITY_REVIEWER)
    account = make_account(township)
    post = posts.post_create(actor=author, organization=township, text="镇里召开春耕动员会。",
                             account_ids=[account.pk])
    posts.post_submit(post=post, actor=author)
    review.post_approve(post=post, actor=reviewer)
    review.post_approve(post=post, actor=reviewer)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    last = AuditEvent.objects.filter(action="moderation.post_approve").order_by("-id").first()
    assert last.after["sole_reviewer_of_several_roles"] is True


def test_two_steps_by_one_person_stay_refused_where_others_hold_the_role(world):
    """DOMAIN rule 10: where another confidentiality reviewer exists, one person
    still decides one step only."""
    ns = world.mine
    head = ns.users[Role.DEPARTMENT_HEAD]
    membership_grant(actor=None, user=head, organization=ns.city_dept,
                     role=Role.CONFIDENTIALITY_REVIEWER)
    post = submit(make_post(ns), ns)
    review.post_approve(post=post, actor=head)
    with pytest.raises(PermissionDenied) as exc:
        review.post_approve(post=post, actor=head)
    assert exc.value.code == "one_step_per_person"


def test_a_reviewer_raises_importance_adding_steps_never_lowers_it(world):
    """DOMAIN rule 10: the author does not alone decide the tier: the reviewer may
    raise it (the leader in charge joins the review) but never lower it."""
    ns = world.mine
    post = submit(make_post(ns, importance=Importance.IMPORTANT), ns)
    head = ns.users[Role.DEPARTMENT_HEAD]
    with pytest.raises(ValidationFailed) as exc:
        review.post_raise_importance(post=post, actor=head, importance=Importance.GENERAL)
    assert exc.value.code == "importance_not_raised"
    review.post_raise_importance(post=post, actor=head, importance=Importance.MAJOR)
    post.refresh_from_db()
    assert post.importance == Importance.MAJOR
    roles = list(post.steps.filter(round=post.review_round).order_by("order")
                 .values_list("role", flat=True))
    assert roles == ["department_head", "leader_in_charge", "principal_leader",
                     "confidentiality_reviewer"]
    assert post.awaiting_role == "department_head"
    with pytest.raises(PermissionDenied):  # the author is no reviewer
        review.post_raise_importance(post=post, actor=post.author, importance=Importance.MAJOR)
    approve_all(post, ns)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
