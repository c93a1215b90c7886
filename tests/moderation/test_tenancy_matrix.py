"""Tenant isolation of every moderation endpoint, for all 12 roles in two placements,
through the declarative harness of tests/tenancy.py (rows registered for this module
only). Endpoints that need a role on top of scope (issuing directives, keeping
dictionaries, resolving flags, setting repost policies, editing posts) are checked
role by role in test_role_gated_endpoints below."""

from __future__ import annotations

import itertools

import pytest
from django.test import Client

from accounts.models import Organization, OrgKind, Role
from accounts.scoping import Domain
from moderation.models import Dictionary as DictionaryModel
from moderation.models import (
    DirectiveTarget,
    Flag,
    Post,
    PublishedPost,
    RepostDirective,
    RepostPolicy,
    TermKind,
)
from moderation.services import dictionaries, directives, posts, publication
from tests import tenancy
from tests.accounts.test_tenancy_matrix import _context
from tests.factories import make_org, make_user, token_for
from tests.moderation.factories import make_account, platform

_n = itertools.count(1)


def _post(org):
    if org is None:
        return None
    account = make_account(org, "weibo")
    # Reviewers, so a submission is not refused for a vacant review role.
    make_user(org, Role.DEPARTMENT_HEAD)
    make_user(org, Role.CONFIDENTIALITY_REVIEWER)
    return posts.post_create(actor=make_user(org, Role.OPERATOR), organization=org,
                             text=f"矩阵测试正文{next(_n)}。", account_ids=[account.pk])


def _dictionary(org):
    if org is None:
        return None
    return dictionaries.dictionary_create(actor=make_user(org, Role.SUPERVISOR),
                                          organization=org, name=f"矩阵{next(_n)}",
                                          kind=TermKind.SENSITIVE)


def _published(org):
    if org is None:
        return None
    account = make_account(org, "douyin")
    row, _created = publication.published_post_report(
        actor=make_user(org, Role.OPERATOR), account=account,
        platform_post_id=f"m{next(_n)}", text="未经审核的发布。")
    return row


def _flag(org):
    row = _published(org)
    return row.flags.get() if row else None


def _below(org):
    """An organization under `org`: a directive reaches the accounts below its issuer,
    never the issuer's own (DOMAIN rule 15)."""
    return make_org(org, f"矩阵下级{next(_n)}", kind=OrgKind.DEPARTMENT)


def _directive(org):
    if org is None:
        return None
    make_account(_below(org), "weibo")
    return directives.directive_issue(actor=make_user(org, Role.SUPERVISOR), organization=org,
                                      title="矩阵转发", source_url="https://www.gov.cn/m")


def _target(org):
    """A target owned by `org`, of a directive issued by the organization above it
    (or, at the top of the tree, a target owned by an organization below `org`)."""
    if org is None:
        return None
    issuer = org.get_parent()
    if issuer is None:
        issuer, org = org, _below(org)
    account = make_account(org, "weibo")
    directive = directives.directive_issue(actor=make_user(issuer, Role.SUPERVISOR),
                                           organization=issuer, title="矩阵转发",
                                           source_url="https://www.gov.cn/t")
    return directive.targets.get(account=account)


def _policy(org):
    if org is None:
        return None
    return RepostPolicy.objects.create(platform=platform("douyin"), organization=org,
                                       unit="minutes", amount=90)


def _universe(model, path="org_path"):
    return lambda: {str(pk): p for pk, p in model.objects.values_list("pk", path)}


# A directive is seen by its issuing organization's scope and by the organizations it
# targets (RepostDirective.objects.visible_to): its "path" in the matrix is the set of
# those paths, joined by PATHS_SEP, and it is visible when any of them is (see _may).
PATHS_SEP = "|"


def _directive_paths() -> dict[str, str]:
    issued = dict(RepostDirective.objects.values_list("pk", "org_path"))
    paths = {pk: {path} for pk, path in issued.items()}
    for pk, path in DirectiveTarget.objects.values_list("directive_id", "org_path"):
        paths[pk].add(path)
    return {str(pk): PATHS_SEP.join(sorted(p)) for pk, p in paths.items()}


ROWS = {
    "moderation_post": tenancy.Rows(Domain.BUSINESS, make=_post, universe=_universe(Post)),
    "moderation_dictionary": tenancy.Rows(Domain.BUSINESS, make=_dictionary,
                                          universe=_universe(DictionaryModel)),
    "moderation_published_post": tenancy.Rows(Domain.BUSINESS, make=_published,
                                              universe=_universe(PublishedPost)),
    "moderation_flag": tenancy.Rows(Domain.BUSINESS, make=_flag, universe=_universe(Flag)),
    "moderation_directive": tenancy.Rows(Domain.BUSINESS, make=_directive,
                                         universe=_directive_paths),
    "moderation_target": tenancy.Rows(Domain.BUSINESS, make=_target,
                                      universe=_universe(DirectiveTarget)),
    # National defaults are listed for everyone with business data (checked in
    # test_policies); the matrix compares the organizations' own policies.
    "moderation_policy": tenancy.Rows(
        Domain.BUSINESS, make=_policy,
        universe=lambda: {str(pk): p for pk, p in RepostPolicy.objects.filter(
            organization__isnull=False).values_list("pk", "organization__path")}),
}


def _policies_without_defaults(client, response):
    keys: set[str] = set()
    while True:
        body = response.json()
        keys |= {str(i["id"]) for i in body["results"] if i["organization"] is not None}
        if not body.get("next"):
            return keys
        response = client.get(body["next"])


def _new_post(org, ctx):
    return {"organization": org.pk, "text": "矩阵新建。",
            "account_ids": [make_account(org, "weibo").pk]}


def _report(org, ctx):
    return {"account": make_account(org, "kuaishou").pk, "platform_post_id": f"n{next(_n)}",
            "text": "平台上看到的内容。"}


E = tenancy.Endpoint
ENDPOINTS = [
    # posts
    tenancy.api_list("api posts list", "moderation_post", "/api/v1/posts/?page_size=200"),
    tenancy.api_read("api posts retrieve", "moderation_post", "/api/v1/posts/{pk}/"),
    tenancy.api_read("api posts diff", "moderation_post", "/api/v1/posts/{pk}/diff/"),
    E("api posts export", "moderation_post", tenancy.EXPORT, "/api/v1/posts/export/",
      extract=tenancy.csv_column(0)),
    # Submitting and creating posts need a drafter role on top of scope (DOMAIN rule
    # 10): checked role by role in test_role_gated_endpoints.
    E("page post detail", "moderation_post", tenancy.READ, "/moderation/posts/{pk}/",
      via="page"),
    E("page posts", "moderation_post", tenancy.LIST, "/moderation/posts/?mine=0", via="page",
      extract=tenancy.page_context("page")),
    # dictionaries
    tenancy.api_list("api dictionaries list", "moderation_dictionary",
                     "/api/v1/dictionaries/?page_size=200"),
    tenancy.api_read("api dictionaries retrieve", "moderation_dictionary",
                     "/api/v1/dictionaries/{pk}/"),
    tenancy.api_read("api dictionaries terms", "moderation_dictionary",
                     "/api/v1/dictionaries/{pk}/terms/"),
    # posts reported by collectors
    tenancy.api_list("api published-posts list", "moderation_published_post",
                     "/api/v1/published-posts/?page_size=200"),
    tenancy.api_read("api published-posts retrieve", "moderation_published_post",
                     "/api/v1/published-posts/{pk}/"),
    E("api published-posts create", "moderation_published_post", tenancy.CREATE,
      "/api/v1/published-posts/", method="post", data=_report, ok=201),
    # flags
    tenancy.api_list("api flags list", "moderation_flag", "/api/v1/flags/?page_size=200"),
    tenancy.api_read("api flags retrieve", "moderation_flag", "/api/v1/flags/{pk}/"),
    E("page flags", "moderation_flag", tenancy.LIST, "/moderation/flags/?all=1", via="page",
      extract=tenancy.page_context("page")),
    # directives
    tenancy.api_list("api repost-directives list", "moderation_directive",
                     "/api/v1/repost-directives/?page_size=200"),
    tenancy.api_read("api repost-directives retrieve", "moderation_directive",
                     "/api/v1/repost-directives/{pk}/"),
    tenancy.api_read("api repost-directives progress", "moderation_directive",
                     "/api/v1/repost-directives/{pk}/progress/"),
    E("page directive detail", "moderation_directive", tenancy.READ,
      "/moderation/directives/{pk}/", via="page"),
    E("page directives", "moderation_directive", tenancy.LIST, "/moderation/directives/",
      via="page", extract=tenancy.page_context("page")),
    # directive targets
    tenancy.api_list("api directive-targets list", "moderation_target",
                     "/api/v1/directive-targets/?page_size=200"),
    tenancy.api_read("api directive-targets retrieve", "moderation_target",
                     "/api/v1/directive-targets/{pk}/"),
    E("api directive-targets export", "moderation_target", tenancy.EXPORT,
      "/api/v1/directive-targets/export/", extract=tenancy.csv_column(0)),
    E("api directive-targets confirm", "moderation_target", tenancy.CHANGE,
      "/api/v1/directive-targets/{pk}/confirm/", method="post",
      data=lambda row, ctx: _confirm_body(row, ctx)),
    # repost policies
    E("api repost-policies list", "moderation_policy", tenancy.LIST,
      "/api/v1/repost-policies/?page_size=200", extract=_policies_without_defaults),
    tenancy.api_read("api repost-policies retrieve", "moderation_policy",
                     "/api/v1/repost-policies/{pk}/"),
]


def _confirm_body(row, ctx):
    """Only an account's operators confirm its repost (tests/moderation/
    test_directive_pages.py pins that rule); this matrix checks scope, so the user
    under test is first made an operator of the target's account. Scope and role are
    still checked before the operator rule: out of scope answers 404, no change right
    403."""
    user_id = ctx.client.session.get("_auth_user_id")
    if user_id:
        row.account.operators.add(int(user_id))
    return {"repost_url": "https://weibo.com/1/repost"}


def _path_of(row):
    if isinstance(row, RepostDirective):
        return _directive_paths()[str(row.pk)]
    return row.org_path if hasattr(row, "org_path") else _original_path_of(row)


_original_path_of = tenancy._path_of
_original_may = tenancy.may


def _may(role, at, action, domain, path):
    """Viewing a row with several paths (a directive) needs any of them; every other
    action is decided by the first (the issuing organization, shortest path)."""
    paths = path.split(PATHS_SEP)
    if action != tenancy.V:
        return _original_may(role, at, action, domain, paths[0])
    return any(_original_may(role, at, action, domain, p) for p in paths)


@pytest.mark.parametrize("placement", ["standard", "city"])
@pytest.mark.parametrize("role", list(Role))
def test_moderation_isolation_matrix(world, role, placement, monkeypatch):
    for name, rows in ROWS.items():
        monkeypatch.setitem(tenancy.ROWS, name, rows)
    # Collector reports and their flags keep the owning path on the row itself.
    monkeypatch.setattr(tenancy, "_path_of", _path_of)
    monkeypatch.setattr(tenancy, "may", _may)
    ctx = _context(world, role, placement)
    problems: list[str] = []
    for endpoint in ENDPOINTS:
        problems += tenancy.check_endpoint(ctx, endpoint)
    assert not problems, f"{role} ({placement}):\n" + "\n".join(problems)


# --- endpoints that need a role on top of scope ----------------------------------------
def _gated(role: Role, at: Organization, path: str, *, need: frozenset[Role]) -> int:
    """404 outside the view scope; 403 when visible but the user may not change
    there or lacks the role; else success (0). A directive is issued by a supervisor
    of the issuing organization itself (own_only): one higher up issues from their
    own organization and selects the subtree."""
    if not tenancy.may(role, at, tenancy.V, Domain.BUSINESS, path):
        return 404
    if not tenancy.may(role, at, tenancy.C, Domain.BUSINESS, path) or role not in need:
        return 403
    return 0


SUPERVISOR = frozenset({Role.SUPERVISOR})
EDITORS = frozenset({Role.OPERATOR, Role.OUTSOURCED_OPERATOR, Role.DEPARTMENT_HEAD})


@pytest.mark.parametrize("placement", ["standard", "city"])
@pytest.mark.parametrize("role", list(Role))
def test_role_gated_endpoints(world, role, placement):
    from django.db import transaction

    ctx = _context(world, role, placement)
    problems = []

    def check(name, method, url, body, path, need, ok, own_only=False):
        want = _gated(role, ctx.at, path, need=need) or ok
        if want == ok and own_only and path != ctx.at.path:
            want = 403
        with transaction.atomic():
            r = getattr(ctx.client, method)(url, body, content_type="application/json")
            transaction.set_rollback(True)
        if r.status_code != want:
            problems.append(f"{name} at {path}: {r.status_code}, expected {want}")

    for target, org in ctx.targets.items():
        post = _post(org)
        check("api posts partial_update", "patch", f"/api/v1/posts/{post.pk}/",
              {"text": "改写。"}, org.path, EDITORS, 200)
        check("api posts submit", "post", f"/api/v1/posts/{post.pk}/submit/", {},
              org.path, EDITORS, 200)
        check("api posts create", "post", "/api/v1/posts/", _new_post(org, ctx),
              org.path, EDITORS, 201)
        policy = _policy(org)
        check("api repost-policies partial_update", "patch",
              f"/api/v1/repost-policies/{policy.pk}/", {"amount": 30}, org.path, SUPERVISOR,
              200)
        check("api repost-policies create", "post", "/api/v1/repost-policies/",
              {"platform": "bilibili", "organization": org.pk, "unit": "minutes",
               "amount": 30}, org.path, SUPERVISOR, 201)
        dictionary = _dictionary(org)
        check("api dictionaries add term", "post",
              f"/api/v1/dictionaries/{dictionary.pk}/terms/add/", {"term": "矩阵词"},
              org.path, SUPERVISOR | {Role.SYSTEM_ADMIN}, 201)
        flag = _flag(org)
        check("api flags resolve", "post", f"/api/v1/flags/{flag.pk}/resolve/",
              {"resolution": "已核实"}, org.path, SUPERVISOR, 200)
        make_account(_below(org), "weibo")
        check("api repost-directives create", "post", "/api/v1/repost-directives/",
              {"organization": org.pk, "title": "矩阵", "source_url": "https://www.gov.cn/x"},
              org.path, SUPERVISOR, 201, own_only=True)
        check("api dictionaries create", "post", "/api/v1/dictionaries/",
              {"organization": org.pk, "name": f"新{target}", "kind": "sensitive"},
              org.path, SUPERVISOR | {Role.SYSTEM_ADMIN}, 201)
    assert not problems, f"{role} ({placement}):\n" + "\n".join(problems)


def test_policy_detail_of_a_national_default_is_readable_not_changeable(world):
    default = RepostPolicy.objects.filter(organization=None).first()
    for role, read in ((Role.OPERATOR, 200), (Role.AUDITOR, 200), (Role.SYSTEM_ADMIN, 404)):
        user = world.mine.users[role]
        client = Client(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
        assert client.get(f"/api/v1/repost-policies/{default.pk}/").status_code == read
        r = client.patch(f"/api/v1/repost-policies/{default.pk}/", {"amount": 1},
                         content_type="application/json")
        assert r.status_code == (403 if read == 200 else 404), role
