"""The post editor: save and submit in one step (a refused submission saves nothing
and keeps what was typed), reasons beside soft hits, the review chain per importance,
messages that name hits in words, not internal keys."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role
from moderation.models import Post, TermKind
from tests.moderation.factories import SOFT, make_account, make_dictionary

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(world):
    ns = world.mine
    make_dictionary(ns, TermKind.COMMON_ERROR, [("截止到", "截至", SOFT)])
    ns.account = make_account(ns.city_dept, "weibo")
    client = Client()
    client.force_login(ns.users[Role.OPERATOR])
    return ns, client


def _form(ns, **extra):
    return {"title": "通知", "text": "截止到今天，工作圆满完成。", "accounts": [str(ns.account.pk)],
            "importance": "important", **extra}


def test_page_shows_the_review_chain_of_each_importance(editor):
    ns, client = editor
    html = client.get("/moderation/posts/new/").content.decode()
    assert 'id="review-chains"' in html
    for importance in ("general", "important", "major"):
        assert f'data-importance="{importance}"' in html
    from django.utils import translation

    from moderation.models import REVIEW_CHAIN, ReviewRole

    with translation.override("zh-hans"):
        chain = " → ".join(str(ReviewRole(r).label) for r in REVIEW_CHAIN["major"])
    assert chain in html and chain.count("→") == 3
    assert 'id="save-submit"' in html


def test_refused_submission_saves_nothing_and_names_the_hit_in_words(editor):
    ns, client = editor
    before = Post.objects.count()
    response = client.post("/moderation/posts/new/", _form(ns, then="submit"))
    assert response.status_code == 200  # the form again, with what was typed
    assert Post.objects.count() == before
    html = response.content.decode()
    assert "截止到今天" in html
    assert "common_error:截止到" not in html.replace('name="override:common_error:截止到"', "")
    assert "截止到" in html and str(TermKind.COMMON_ERROR.label) in html


def test_save_and_submit_in_one_step(editor):
    ns, client = editor
    response = client.post("/moderation/posts/new/",
                           _form(ns, then="submit", **{"override:common_error:截止到": "引用原文"}))
    assert response.status_code == 302
    post = Post.objects.get(title="通知")
    assert post.status == "in_review" and post.awaiting_role == "department_head"
    assert post.current_revision.overrides[0]["reason"] == "引用原文"


def test_save_alone_keeps_a_draft(editor):
    ns, client = editor
    assert client.post("/moderation/posts/new/", _form(ns)).status_code == 302
    assert Post.objects.get(title="通知").status == "draft"
