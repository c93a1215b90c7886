"""The UI is Chinese by default and complete in English.

The catalogue test fails whenever someone adds a UI string without translating it:
run makemessages, add the Chinese to tools/zh_translations.py, then tools/po_fill.py
and compilemessages (see tools/po_fill.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.template import loader
from django.urls import reverse
from django.utils import translation

from tools.po_fill import load, messages

LOCALE = Path(settings.BASE_DIR) / "locale"
ZH_PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"


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
