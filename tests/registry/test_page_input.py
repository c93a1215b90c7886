"""Registry pages: bad input is answered beside the field it concerns (never a 500),
and user-facing text goes through gettext (templates and Python alike)."""

from __future__ import annotations

import ast
import pathlib
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.models import Membership, Role
from registry.models import Filing, MediaAccount
from tests.registry.helpers import active_account, file_open

BASE = pathlib.Path(settings.BASE_DIR)


def _page(user) -> Client:
    client = Client(raise_request_exception=True)
    client.force_login(user)
    return client


def field_errors(html: str, name: str) -> list[str]:
    """The error messages shown in the form field `name` (registry/_form_fields.html
    wraps each field in id="field-<name>")."""
    start = html.find(f'id="field-{name}"')
    assert start >= 0, f"no field {name}"
    nxt = [i for i in (html.find('id="field-', start + 1), html.find("</form>", start)) if i > 0]
    segment = html[start : min(nxt)]
    return re.findall(r'class="field-error"[^>]*>([^<]+)<', segment)


def _today(days=0) -> str:
    return str(timezone.localdate() + timedelta(days=days))


# --- the new filing ---------------------------------------------------------------------------
OPEN_CASES = [
    ({"display_name": ""}, "display_name"),
    ({"event_date": "2025-13-45"}, "event_date"),
    ({"event_date": _today(3)}, "event_date"),  # the future, refused by the service
    ({"platform": "999999"}, "platform"),
    ({"platform": "", "profile_url": ""}, "platform"),
    ({"platform": "", "profile_url": "not a web address"}, "profile_url"),
    ({"profile_url": "https://www.douyin.com/user/MS4wLjABAAAA"}, "profile_url"),  # other platform
    ({"operators": ["abc"]}, "operators"),
    ({"operators": []}, "operators"),  # staffing minimum (rule)
    ({"category": "bogus"}, "category"),
    ({"liaison": "999999"}, "liaison"),
]


@pytest.mark.parametrize(("bad", "field"), OPEN_CASES)
def test_new_filing_bad_input_shows_beside_the_field(world, bad, field):
    operator = world.mine.users[Role.OPERATOR]
    weibo = __import__("registry.models", fromlist=["Platform"]).Platform.objects.get(code="weibo")
    data = {
        "organization": world.mine.city_dept.pk,
        "platform": weibo.pk,
        "platform_account_id": "88880001",
        "profile_url": "",
        "display_name": "甲一公安",
        "category": "institutional",
        "verification": "verified",
        "operators": [operator.pk, world.mine.users[Role.OUTSOURCED_OPERATOR].pk],
        "liaison": "",
        "event_date": _today(),
        "note": "",
    }
    data.update(bad)
    r = _page(operator).post("/registry/filings/new/", data)
    assert r.status_code == 200, r.status_code
    assert field_errors(r.content.decode(), field), (bad, r.content.decode()[:3000])
    assert not MediaAccount.objects.exists() and not Filing.objects.exists()


def test_new_filing_foreign_organization_is_a_field_error(world):
    operator = world.mine.users[Role.OPERATOR]
    r = _page(operator).post(
        "/registry/filings/new/",
        {"organization": world.other.city_dept.pk, "display_name": "乙", "event_date": _today()},
    )
    assert r.status_code == 200
    assert field_errors(r.content.decode(), "organization")
    assert world.other.city_dept.name not in r.content.decode()


# --- filings of an existing account -----------------------------------------------------------
def test_change_suspend_cancel_bad_input(world):
    account = active_account(world.mine)
    client = _page(world.mine.users[Role.OPERATOR])
    base = f"/registry/accounts/{account.pk}/file"
    change = {
        "organization": account.organization_id, "display_name": "", "category": "bogus",
        "verification": account.verification, "profile_url": "javascript:alert(1)",
        "event_date": "yesterday",
    }
    html = client.post(f"{base}/change/", change).content.decode()
    for name in ("display_name", "category", "profile_url", "event_date"):
        assert field_errors(html, name), name
    # valid types but nothing changed: the service's message, shown on the form
    same = {
        "organization": account.organization_id, "display_name": account.display_name,
        "category": account.category, "verification": account.verification,
        "operators": list(account.operators.values_list("pk", flat=True)),
        "event_date": _today(),
    }
    r = client.post(f"{base}/change/", same)
    assert r.status_code == 200 and 'class="alert"' in r.content.decode()

    r = client.post(f"{base}/suspend/", {"event_date": _today(), "note": ""})
    assert r.status_code == 200 and field_errors(r.content.decode(), "note")

    r = client.post(f"{base}/cancel/", {"event_date": _today(), "announced_on": "31/12/2025"})
    html = r.content.decode()
    assert r.status_code == 200 and field_errors(html, "announced_on")
    r = client.post(f"{base}/cancel/", {"event_date": _today()})
    html = r.content.decode()
    # the closure rules (DOMAIN rule 8) answer per field
    assert field_errors(html, "announced_on") and field_errors(html, "deregistered_on")
    assert not Filing.objects.filter(account=account).exclude(kind="open").exists()

    assert client.get(f"{base}/bogus/").status_code == 404


def test_reject_without_reason_and_bad_exemption_and_custody(world):
    f = file_open(world.mine)
    decider = _page(world.mine.city_supervisor)  # the supervising organization decides
    r = decider.post(f"/registry/filings/{f.pk}/decide/", {"decision": "reject", "reason": ""})
    assert r.status_code == 400 and field_errors(r.content.decode(), "reason")
    sup = _page(world.mine.users[Role.SUPERVISOR])

    r = sup.post("/registry/exemptions/", {"organization": "999999", "platform": "", "reason": ""})
    html = r.content.decode()
    assert r.status_code == 200
    for name in ("organization", "platform", "reason"):
        assert field_errors(html, name), name

    account = active_account(world.mine, code="douyin")
    op = _page(world.mine.users[Role.OPERATOR])
    r = op.post(f"/registry/accounts/{account.pk}/custody/",
                {"holder": "abc", "last_changed_on": "soon"})
    html = r.content.decode()
    assert r.status_code == 200
    assert field_errors(html, "holder") and field_errors(html, "last_changed_on")


def test_ledger_filter_errors_show_in_the_filter_bar(world):
    sup = _page(world.mine.users[Role.SUPERVISOR])
    r = sup.get("/registry/ledger/", {"idle_days": "abc", "status": "bogus", "sort": "nope"})
    assert r.status_code == 200
    html = r.content.decode()
    assert html.count('class="field-error"') >= 3
    assert sup.get("/registry/ledger/", {"org": "abc"}).status_code in (200, 404)


# --- gettext ------------------------------------------------------------------------------------
def _template_untranslated(src: str) -> list[str]:
    """English text in a template outside {% translate %}/{% blocktranslate %}."""
    s = re.sub(r"{#.*?#}", "", src, flags=re.S)
    s = re.sub(r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}", "", s, flags=re.S)
    s = re.sub(r"<script.*?</script>|<style.*?</style>|<!--.*?-->", "", s, flags=re.S)
    s = re.sub(r"{%.*?%}|{{.*?}}", "", s, flags=re.S)
    s = re.sub(r"https?://\S+?(?=[\"'<\s&])", "", s)
    found = [
        m.group(0)
        for m in re.finditer(r'\b(placeholder|title|aria-label|alt)="([^"]*)"', s)
        if re.search(r"[A-Za-z]{2,}", m.group(2))
    ]
    text = re.sub(r"&#?\w+;", " ", re.sub(r"<[^>]+>", " ", s))
    return found + re.findall(r"[A-Za-z][A-Za-z' ]*[A-Za-z]", text)


def test_the_checker_finds_untranslated_text():
    assert _template_untranslated('<p>Hello there</p><a title="Open it">{% translate "x" %}</a>')
    assert not _template_untranslated('<p>{% translate "Hello" %} {{ name }}</p>')


def test_registry_templates_translate_every_text():
    problems = {
        path.name: found
        for path in sorted((BASE / "templates" / "registry").glob("*.html"))
        if (found := _template_untranslated(path.read_text(encoding="utf-8")))
    }
    assert not problems


GETTEXT = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext"}
MESSAGE_CALLS = {
    "ValidationFailed", "Conflict", "PermissionDenied", "NotFound", "ApplicationError",
    "ImportFileError", "Http404", "success", "error", "warning", "info", "add_error",
}


def _name(func) -> str:
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _python_misuse(source: str) -> list[str]:
    problems = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        if name in GETTEXT and node.args and not (
            isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
        ):
            problems.append(f"{node.lineno}: gettext of a computed string")
        if name in MESSAGE_CALLS and any(isinstance(a, ast.JoinedStr) for a in node.args):
            problems.append(f"{node.lineno}: f-string message")
    return problems


def test_the_python_checker_finds_misuse():
    assert _python_misuse('_(f"Hello {name}")')
    assert _python_misuse('raise ValidationFailed(f"bad {x}")')
    assert not _python_misuse('_("Hello %(n)s") % {"n": name}')


def test_registry_python_uses_gettext_properly():
    problems = {}
    for path in sorted((BASE / "registry").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        if found := _python_misuse(path.read_text(encoding="utf-8")):
            problems[str(path.relative_to(BASE))] = found
    assert not problems


def test_every_registry_page_renders_in_both_languages(world):
    account = active_account(world.mine)
    filing = file_open(world.mine, code="douyin")
    m = Membership.objects.get(
        user=world.mine.users[Role.OUTSOURCED_OPERATOR], role=Role.OUTSOURCED_OPERATOR
    )
    from accounts import services as account_services

    account_services.membership_end(actor=None, membership=m)
    urls = {
        Role.SUPERVISOR: [
            "/registry/overview/", "/registry/accounts/", f"/registry/accounts/{account.pk}/",
            f"/registry/accounts/{account.pk}/history/", "/registry/filings/",
            "/registry/filings/queue/", f"/registry/filings/{filing.pk}/",
            "/registry/exemptions/", "/registry/rotations/", "/registry/ledger/",
            "/registry/counterfeit/", "/registry/ledger/import/",
        ],
        Role.OPERATOR: [
            "/registry/filings/new/", f"/registry/accounts/{account.pk}/file/change/",
            f"/registry/accounts/{account.pk}/file/suspend/",
            f"/registry/accounts/{account.pk}/file/cancel/",
            f"/registry/accounts/{account.pk}/custody/", f"/registry/filings/{filing.pk}/",
        ],
    }
    for language in ("zh-hans", "en"):
        for role, pages in urls.items():
            client = _page(world.mine.users[role])
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
            for url in pages:
                r = client.get(url)
                assert r.status_code == 200, (language, url, r.status_code)
