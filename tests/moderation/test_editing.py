"""Who edits a post: the drafters of its organization (operators, outsourced
operators, the department head). Reviewers are not offered the Edit button (an edit
would make them an author, unable to approve); the server refuses everyone else."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role
from common.errors import NotFound, PermissionDenied
from moderation.models import PostStatus
from moderation.services import posts, review
from tests.factories import make_user, token_for
from tests.moderation.factories import make_post, submit

pytestmark = pytest.mark.django_db

EDITORS = {Role.OPERATOR, Role.OUTSOURCED_OPERATOR, Role.DEPARTMENT_HEAD}


def _page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_only_drafters_of_the_organization_edit(world):
    ns = world.mine
    post = make_post(ns)
    for role in Role:
        user = ns.users[role]
        if role in EDITORS:
            posts.post_update(post=post, actor=user, text=f"由{role}修改。")
            continue
        expected = PermissionDenied if role in {
            Role.LEADER_IN_CHARGE, Role.PRINCIPAL_LEADER, Role.CONFIDENTIALITY_REVIEWER,
            Role.LIAISON, Role.SUPERVISOR} else (PermissionDenied, NotFound)
        with pytest.raises(expected) as exc:
            posts.post_update(post=post, actor=user, text="越权修改。")
        if role not in {Role.AUDITOR, Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN,
                        Role.AUDIT_ADMIN}:
            assert exc.value.code == "not_an_editor", role
            assert ns.city_dept.name in str(exc.value.message)
    # A city supervisor (subtree) and another province's operator: refused too.
    with pytest.raises(PermissionDenied):
        posts.post_update(post=post, actor=ns.city_supervisor, text="上级改写。")
    with pytest.raises(NotFound):
        posts.post_update(post=post, actor=world.other.users[Role.OPERATOR], text="外省。")
    post.refresh_from_db()
    assert post.text == f"由{Role.DEPARTMENT_HEAD}修改。"
    assert post.revisions.count() == 4


def test_department_head_who_edits_cannot_approve(world):
    ns = world.mine
    head = ns.users[Role.DEPARTMENT_HEAD]
    post = submit(make_post(ns), ns)
    posts.post_update(post=post, actor=head, text="部门负责人改写。")
    submit(post, ns)
    with pytest.raises(PermissionDenied) as exc:
        review.post_approve(post=post, actor=head)
    assert exc.value.code == "self_review"


def test_edit_button_only_for_authors_and_operators(world):
    ns = world.mine
    post = submit(make_post(ns), ns)
    edit_url = f"/moderation/posts/{post.pk}/edit/"
    shown = {}
    for role in (Role.OPERATOR, Role.OUTSOURCED_OPERATOR, Role.DEPARTMENT_HEAD,
                 Role.LEADER_IN_CHARGE, Role.PRINCIPAL_LEADER, Role.CONFIDENTIALITY_REVIEWER,
                 Role.LIAISON, Role.SUPERVISOR, Role.AUDITOR):
        r = _page(ns.users[role]).get(f"/moderation/posts/{post.pk}/")
        assert r.status_code == 200, role
        shown[role] = edit_url in r.content.decode()
    assert {r for r, s in shown.items() if s} == {Role.OPERATOR, Role.OUTSOURCED_OPERATOR}
    # A department head who wrote the post sees it.
    own = submit(make_post(ns, author=ns.users[Role.DEPARTMENT_HEAD]), ns)
    r = _page(ns.users[Role.DEPARTMENT_HEAD]).get(f"/moderation/posts/{own.pk}/")
    assert f"/moderation/posts/{own.pk}/edit/" in r.content.decode()
    # Not offered once the post can no longer change.
    review.post_reject(post=post, actor=ns.users[Role.DEPARTMENT_HEAD], comment="不发")
    r = _page(ns.users[Role.OPERATOR]).get(f"/moderation/posts/{post.pk}/")
    assert edit_url not in r.content.decode()


def test_edit_page_and_api_refuse_reviewers_with_a_message(world):
    ns = world.mine
    post = submit(make_post(ns), ns)
    leader = ns.users[Role.LEADER_IN_CHARGE]
    assert _page(leader).get(f"/moderation/posts/{post.pk}/edit/").status_code == 403
    r = _page(leader).post(f"/moderation/posts/{post.pk}/edit/", {"text": "改", "accounts": []})
    assert r.status_code == 403
    api = Client(HTTP_AUTHORIZATION=f"Token {token_for(leader)}")
    r = api.patch(f"/api/v1/posts/{post.pk}/", {"text": "领导改写。"},
                  content_type="application/json")
    assert r.status_code == 403
    assert r.json()["code"] == "not_an_editor"
    r = _page(ns.users[Role.OPERATOR]).get(f"/moderation/posts/{post.pk}/edit/")
    assert r.status_code == 200
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW and post.revisions.count() == 1
    # An operator of another department of the same city: not an editor there.
    other_dept_operator = make_user(ns.city, Role.OPERATOR)
    assert _page(other_dept_operator).get(
        f"/moderation/posts/{post.pk}/edit/").status_code == 404
