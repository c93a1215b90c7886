"""The UI is Chinese by default and complete in English.

The catalogue test fails whenever someone adds a UI string without translating it:
run `make messages`, write the Chinese into locale/zh_Hans/LC_MESSAGES/django.po
and run `make messages` again (see tools/po_check.py).
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.template import loader
from django.urls import reverse
from django.utils import translation

from tools.po_check import load, messages

LOCALE = Path(settings.BASE_DIR) / "locale"
ZH_PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"


@pytest.fixture(autouse=True)
def _default_language():
    # The test client runs requests in this thread, and LocaleMiddleware leaves the
    # last request's language active; an English page in an earlier test must not
    # decide the language of a template rendered here without a request.
    translation.deactivate()
    yield
    translation.deactivate()


def test_every_chinese_msgid_is_translated_and_none_is_fuzzy():
    entries = messages(load(ZH_PO))
    assert len(entries) > 100
    untranslated = [e.msgid for e in entries if not e.translated]
    fuzzy = [e.msgid for e in entries if e.fuzzy]
    assert untranslated == [], (
        f"{len(untranslated)} msgids lack Chinese: {untranslated[:20]}"
    )
    assert fuzzy == [], f"{len(fuzzy)} fuzzy entries: {fuzzy[:20]}"


def test_compiled_chinese_catalogue_matches_the_po_file():
    # The .mo files are committed so that a machine without gettext still shows
    # Chinese; this catches a .po edited without running compilemessages.
    import gettext

    for lang in ("zh_Hans", "en"):
        assert (LOCALE / lang / "LC_MESSAGES" / "django.mo").exists(), lang
    with (ZH_PO.with_suffix(".mo")).open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = []
    for e in messages(load(ZH_PO)):
        if e.msgid_plural:
            got = compiled.ngettext(e.msgid, e.msgid_plural, 1)
            want = e.msgstr_plural.get(0)
        else:
            got, want = compiled.gettext(e.msgid), e.msgstr
        if e.msgctxt is None and got != want:
            stale.append(e.msgid)
    assert stale == [], f"run compilemessages; stale: {stale[:10]}"


def test_placeholders_survive_translation():
    import re

    pattern = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
    for e in messages(load(ZH_PO)):
        wanted = sorted(set(pattern.findall(e.msgid)))
        forms = list(e.msgstr_plural.values()) if e.msgid_plural else [e.msgstr]
        for form in forms:
            assert sorted(set(pattern.findall(form))) == wanted, e.msgid


def test_role_names_follow_the_glossary():
    from accounts.models import Role

    with translation.override("zh-hans"):
        labels = {role: str(role.label) for role in Role}
    assert labels[Role.OPERATOR] == "运维人员"
    assert labels[Role.OUTSOURCED_OPERATOR] == "外包运维人员"
    assert labels[Role.SUPERVISOR] == "主管单位监管员"
    assert labels[Role.AUDIT_ADMIN] == "安全审计员"


@pytest.mark.django_db
def test_login_page_is_chinese_by_default(client):
    response = client.get(reverse("accounts:login"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert "<h1>登录</h1>" in html
    assert "用户名" in html and "密码" in html
    assert "Sign in" not in html


@pytest.mark.django_db
def test_login_page_in_english_with_the_language_cookie(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("accounts:login")).content.decode()
    assert '<html lang="en">' in html
    assert "<h1>Sign in</h1>" in html
    assert "登录" not in html.replace("简体中文", "")


@pytest.mark.django_db
def test_set_language_switches_to_english_and_back(client):
    login = reverse("accounts:login")
    response = client.post(reverse("set_language"), {"language": "en", "next": login})
    assert response.status_code == 302
    assert response.headers["Location"] == login
    assert "<h1>Sign in</h1>" in client.get(login).content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": login})
    assert "<h1>登录</h1>" in client.get(login).content.decode()


def test_server_error_page_renders_without_any_context():
    # Django renders 500.html with an empty context: no request, user or csrf token.
    html = loader.get_template("500.html").render({})
    assert "500" in html and "系统出错了" in html
    with translation.override("en"):
        assert "Something went wrong" in loader.get_template("500.html").render({})


def test_csrf_failure_page_renders_without_any_context():
    html = loader.get_template("403_csrf.html").render({})
    assert "表单已失效" in html


@pytest.mark.django_db
def test_not_found_page_is_friendly_and_in_chinese(client, world):
    from accounts.models import Role

    user = world.mine.users[Role.SUPERVISOR]
    client.force_login(user)
    response = client.get(
        reverse("accounts:org_detail", args=[world.other.province.pk])
    )
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html
    assert world.other.province.name not in html


# --- Registry and moderation pages in both languages ---------------------------------

_TEXT_NODE = re.compile(r">([^<]+)<")
_LABEL_ATTR = re.compile(r'\b(?:title|placeholder|aria-label)="([^"]+)"')


def _shown_strings(html: str) -> set[str]:
    """Text nodes and the labelling attributes a reader sees or hears, stripped.
    Scripts, styles and the language selector (each language by its own name) are
    left out."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<select id="language-select".*?</select>', " ", html, flags=re.S)
    found = {unescape(t).strip() for t in _TEXT_NODE.findall(html)}
    found |= {unescape(t).strip() for t in _LABEL_ATTR.findall(html)}
    return {s.rstrip(":：").strip() for s in found if s.strip()}


def _leakable_msgids() -> set[str]:
    """English msgids that would be a leak if shown whole on a Chinese page: words
    of English (not codes like URL/ID/XLSX), with a Chinese msgstr that differs."""
    out = set()
    for e in messages(load(ZH_PO)):
        if e.msgid_plural or e.msgctxt or "%" in e.msgid or "{" in e.msgid:
            continue
        if re.search(r"[a-z]{3}", e.msgid) and e.msgstr and e.msgstr != e.msgid:
            out.add(e.msgid.rstrip(":").strip())
    return out


@pytest.fixture
def pages(world):
    """A handful of registry and moderation pages, each with its viewer and a few
    labels it must show."""
    from accounts.models import Role
    from moderation.services import directives
    from tests.moderation.factories import make_account, make_post, submit
    from tests.registry.helpers import active_account, file_open

    ns = world.mine
    users = ns.users
    account = active_account(ns, name="甲一公安发布")
    pending = file_open(ns, name="甲一公安微信", code="wechat_subscription")
    post = make_post(ns, title="安全生产通报", account=make_account(ns.city_dept))
    submit(post, ns)
    directive = directives.directive_issue(
        actor=users[Role.SUPERVISOR],
        organization=ns.province,
        title="转发重要通知",
        source_url="https://www.gov.cn/zhengce/1.htm",
    )
    return [
        (
            users[Role.SUPERVISOR],
            reverse("registry:dashboard"),
            ["Registry overview", "By status", "By platform", "Needs attention"],
        ),
        (users[Role.SUPERVISOR], reverse("registry:ledger"), ["Ledger", "Export XLSX"]),
        (users[Role.SUPERVISOR], reverse("registry:filing_queue"), ["Approval queue"]),
        (
            ns.city_supervisor,  # the supervising organization decides the filing
            reverse("registry:filing_detail", args=[pending.pk]),
            ["Before and after", "Approve", "Reject"],
        ),
        (
            users[Role.OPERATOR],
            reverse("registry:account_history", args=[account.pk]),
            ["Filings and decisions", "Changes"],
        ),
        (users[Role.OPERATOR], reverse("moderation:post_list"), ["My posts"]),
        (
            users[Role.OPERATOR],
            reverse("moderation:post_create"),
            ["New post", "Save draft"],
        ),
        (
            users[Role.DEPARTMENT_HEAD],
            reverse("moderation:queue"),
            ["Review queue", "Submitted"],
        ),
        (
            users[Role.DEPARTMENT_HEAD],
            reverse("moderation:post_detail", args=[post.pk]),
            ["Review", "Approve", "Request changes", "History", "Round"],
        ),
        (
            users[Role.SUPERVISOR],
            reverse("moderation:directive_list"),
            ["Repost directives", "Issuing organization", "Issued at"],
        ),
        (
            users[Role.SUPERVISOR],
            reverse("moderation:flag_list"),
            ["Flags", "Published text"],
        ),
        (
            users[Role.OPERATOR],
            reverse("moderation:directive_detail", args=[directive.pk]),
            ["My accounts to repost", "Completion by organization", "Confirm"],
        ),
    ]


@pytest.mark.django_db
def test_registry_and_moderation_pages_in_english(client, pages):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for user, url, labels in pages:
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert '<html lang="en">' in html, url
        shown = _shown_strings(html)
        for label in labels:
            assert label in shown, (url, label)
            with translation.override("zh-hans"):
                chinese = translation.gettext(label)
            assert chinese not in shown, (url, chinese)


@pytest.mark.django_db
def test_registry_and_moderation_pages_in_chinese_leak_no_english(client, pages):
    leakable = _leakable_msgids()
    assert {"Approve", "Review queue", "Registry overview"} <= leakable
    for user, url, labels in pages:
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert '<html lang="zh-hans">' in html, url
        shown = _shown_strings(html)
        with translation.override("zh-hans"):
            for label in labels:
                assert translation.gettext(label) in shown, (url, label)
        leaked = sorted(shown & leakable)
        assert leaked == [], (url, leaked)
