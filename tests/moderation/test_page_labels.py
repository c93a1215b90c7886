"""Moderation pages show labels, never codes: role names for review steps, term
kinds for overrides, field labels and readable values in the revision diff."""

from __future__ import annotations

import re
from html import unescape

import pytest

from accounts.models import Role
from moderation.models import Importance, TermKind
from moderation.services import posts
from tests.moderation.factories import (
    SOFT,
    make_account,
    make_dictionary,
    make_post,
    submit,
)

pytestmark = pytest.mark.django_db

CODES = [r.value for r in Role] + [k.value for k in TermKind] + [
    "account_ids", "column_tag", "is_repost", "attachment_names"]


def visible_text(html: str) -> str:
    """What a reader sees: no scripts, styles, tags or attribute values."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def assert_no_codes(html: str) -> None:
    text = visible_text(html)
    shown = [c for c in CODES if re.search(rf"(?<![\w-]){c}(?![\w-])", text)]
    assert not shown, shown


@pytest.fixture
def in_review(world):
    ns = world.mine
    make_dictionary(ns, "common_error", [("截止到", "截至", SOFT)])
    post = make_post(ns, text="截止到今天，活动圆满结束。", title="活动通报")
    second = make_account(ns.city_dept, "wechat_subscription", name="甲一公安微信")
    posts.post_update(post=post, actor=ns.users[Role.OPERATOR], importance=Importance.IMPORTANT,
                      account_ids=[*post.current_revision.account_ids, second.pk],
                      text="截止到今天，活动已圆满结束。")
    submit(post, ns, overrides={"common_error:截止到": "引用原文"})
    post.refresh_from_db()
    assert post.awaiting_role == Role.DEPARTMENT_HEAD
    return post


def test_queue_shows_the_step_by_its_role_label(in_review, world, client):
    client.force_login(world.mine.users[Role.DEPARTMENT_HEAD])
    html = client.get("/moderation/queue/").content.decode()
    row = html[html.index('id="queue"'):]
    assert str(Role.DEPARTMENT_HEAD.label) in row
    assert_no_codes(html)


def test_post_detail_shows_labels(in_review, world, client):
    client.force_login(world.mine.users[Role.DEPARTMENT_HEAD])
    html = client.get(f"/moderation/posts/{in_review.pk}/?from=1&to=2").content.decode()
    assert_no_codes(html)
    overrides = visible_text(html[html.index('id="overrides"'):].split("</ul>")[0])
    assert f"({TermKind.COMMON_ERROR.label})" in overrides
    fields = visible_text(html[html.index('id="diff-fields"'):].split("</ul>")[0])
    assert f"{Importance.GENERAL.label} → {Importance.IMPORTANT.label}" in fields
    assert "甲一公安微信" in fields  # account names, not ids
    assert "important" not in fields


def test_precheck_summary_is_a_sentence_from_the_page(world, client):
    client.force_login(world.mine.users[Role.OPERATOR])
    make_account(world.mine.city_dept, "weibo")
    html = client.get("/moderation/posts/new/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    summary = re.search(r'id="precheck-status"[^>]*data-summary="([^"]+)"', html).group(1)
    assert {"%(length)s", "%(hard)s", "%(soft)s"} <= set(re.findall(r"%\(\w+\)s", summary))
    assert "characters" in summary
