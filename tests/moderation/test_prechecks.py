"""Pre-checks: dictionaries inherited down the tree, personal data, links, sources,
lengths; the matcher is rebuilt only when a dictionary changes."""

from __future__ import annotations

import pytest

from accounts.models import Role
from common.errors import ValidationFailed
from moderation import prechecks
from moderation.models import TermKind
from moderation.services import dictionaries, posts
from tests.moderation.factories import (
    HARD,
    SOFT,
    make_dictionary,
    make_post,
)

pytestmark = pytest.mark.django_db


def run(ns, text, org=None, **kw):
    return prechecks.run_prechecks(text=text, org_path=(org or ns.city_dept).path, **kw)


def test_dictionary_hits_carry_position_kind_severity_suggestion(world):
    ns = world.mine
    make_dictionary(ns, TermKind.COMMON_ERROR, [("国务院办公室", "国务院办公厅", SOFT)])
    make_dictionary(ns, TermKind.BANNED, [("禁用词甲", "", HARD)])
    text = "根据国务院办公室通知，禁用词甲不得出现。"
    hits = run(ns, text)
    by_kind = {h.kind: h for h in hits}
    err = by_kind["common_error"]
    assert text[err.start:err.end] == "国务院办公室"
    assert (err.severity, err.suggestion) == ("soft", "国务院办公厅")
    assert by_kind["banned"].severity == "hard"
    assert text[by_kind["banned"].start:by_kind["banned"].end] == "禁用词甲"


def test_terms_inherited_down_not_up_nor_across(world):
    ns = world.mine
    make_dictionary(ns, TermKind.ADVERTISING, [("最低价", "", SOFT)], org=ns.city)
    assert [h.term for h in run(ns, "全网最低价", org=ns.city_dept)] == ["最低价"]
    assert run(ns, "全网最低价", org=ns.province) == []
    assert run(ns, "全网最低价", org=world.other.city_dept) == []


def test_matcher_rebuilt_only_when_a_dictionary_changes(world, django_assert_num_queries):
    ns = world.mine
    d = make_dictionary(ns, TermKind.SENSITIVE, [("敏感甲", "", HARD)])
    prechecks.clear_cache()
    run(ns, "敏感甲")
    with django_assert_num_queries(1):  # the version stamp only; automaton cached
        assert [h.term for h in run(ns, "敏感甲 敏感乙")] == ["敏感甲"]
    dictionaries.term_add(actor=ns.users[Role.SUPERVISOR], dictionary=d, term="敏感乙",
                          severity=HARD)
    assert [h.term for h in run(ns, "敏感甲 敏感乙")] == ["敏感甲", "敏感乙"]


def test_nearer_organization_overrides_severity(world):
    ns = world.mine
    make_dictionary(ns, TermKind.SENSITIVE, [("某词", "", HARD)])
    make_dictionary(ns, TermKind.ADVERTISING, [("某词", "", SOFT)], org=ns.city)
    assert [h.severity for h in run(ns, "某词")] == ["soft"]
    assert [h.severity for h in run(ns, "某词", org=ns.province)] == ["hard"]


@pytest.mark.parametrize("number,valid", [
    ("11010519491231002X", True),
    ("110105194912310021", False),   # wrong check character
    ("110105194913310020", False),   # month 13
])
def test_id_card_checksum(number, valid):
    assert prechecks.id_card_valid(number) is valid


def test_personal_data(world):
    ns = world.mine
    hits = run(ns, "联系人身份证11010519491231002X，电话13812345678，工号110105194912310021。")
    kinds = [(h.kind, h.severity, h.term) for h in hits]
    assert ("personal_id", "hard", "11010519491231002X") in kinds
    assert ("personal_phone", "soft", "13812345678") in kinds
    assert not any(h.term == "110105194912310021" for h in hits)


def test_links_outside_government_domains(world):
    ns = world.mine
    make_dictionary(ns, TermKind.ALLOWED_DOMAIN, [("people.com.cn", "", SOFT)])
    hits = run(ns, "详见 https://www.zj.gov.cn/a 和 http://paper.people.com.cn/x 以及 https://evil.example.com/p",
               links=["https://shop.example.org"])
    assert sorted(h.term for h in hits if h.kind == "link_domain") == [
        "evil.example.com", "shop.example.org"]
    assert not prechecks.host_allowed("fakegov.cn", ())
    assert prechecks.host_allowed("gov.cn", ())


def test_repost_source_must_be_approved(world):
    ns = world.mine
    make_dictionary(ns, TermKind.APPROVED_SOURCE, [("新华社", "", SOFT)])
    assert run(ns, "转发", is_repost=True, repost_source="新华社") == []
    hit, = run(ns, "转发", is_repost=True, repost_source="某自媒体")
    assert (hit.kind, hit.severity) == ("repost_source", "soft")


def test_platform_length_limit_is_hard(world):
    ns = world.mine
    hits = run(ns, "字" * 2001, platforms=[("weibo", "微博", 2000)])
    assert [(h.kind, h.severity, h.start) for h in hits] == [("length", "hard", 2000)]


def test_hard_hits_block_and_soft_hits_need_override(world):
    ns = world.mine
    make_dictionary(ns, TermKind.BANNED, [("禁用词甲", "", HARD)])
    make_dictionary(ns, TermKind.COMMON_ERROR, [("国务院办公室", "国务院办公厅", SOFT)])
    post = make_post(ns, text="禁用词甲")
    with pytest.raises(ValidationFailed) as exc:
        posts.post_submit(post=post, actor=post.author)
    assert exc.value.code == "precheck_blocked"
    post = make_post(ns, text="国务院办公室发布通知")
    with pytest.raises(ValidationFailed) as exc:
        posts.post_submit(post=post, actor=post.author)
    assert exc.value.code == "override_required"
    assert exc.value.fields["overrides"] == ["common_error:国务院办公室"]
    with pytest.raises(ValidationFailed):
        posts.post_submit(post=post, actor=post.author,
                          overrides={"common_error:国务院办公室": "  "})
    posts.post_submit(post=post, actor=post.author,
                      overrides={"common_error:国务院办公室": "引用原文标题"})
    post.refresh_from_db()
    override, = post.current_revision.overrides
    assert override["reason"] == "引用原文标题" and override["by"] == post.author_id


def test_only_supervisors_keep_dictionaries(world):
    ns = world.mine
    from common.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        dictionaries.dictionary_create(actor=ns.users[Role.OPERATOR], organization=ns.city_dept,
                                       name="x", kind=TermKind.SENSITIVE)
