"""The one navigation registry (common/navigation.py): menus by task, entries shown by
role and scope, the current page and breadcrumbs."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role
from common import navigation
from common.navigation import NavEntry, build, entries_for


def keys(user):
    return {e.key for e in entries_for(user)}


def menus(user):
    return [m.key for m in build(user, "/")["menus"]]


def test_menus_by_role(world):
    users = world.mine.users
    assert menus(users[Role.OPERATOR]) == ["registry", "filings", "content", "reposts",
                                          "messages"]
    assert "review_queue" not in keys(users[Role.OPERATOR])
    assert "review_queue" in keys(users[Role.DEPARTMENT_HEAD])
    sup = keys(users[Role.SUPERVISOR])
    assert {"registry_queue", "directive_new", "flags", "orgs"} <= sup
    assert "access" not in sup and "audit" not in sup and "admin" not in sup
    # the administrators see the system menu only (and the workbench)
    assert menus(users[Role.SECURITY_ADMIN]) == ["system"]
    assert {"access", "admin", "orgs"} <= keys(users[Role.SECURITY_ADMIN])
    assert "audit" in keys(users[Role.AUDIT_ADMIN])
    assert "access" not in keys(users[Role.AUDIT_ADMIN])
    # the auditor reads: no "new" entries, no queue
    aud = keys(users[Role.AUDITOR])
    assert "registry_dashboard" in aud and "post_new" not in aud and "registry_queue" not in aud


def test_current_entry_and_breadcrumbs(world):
    nav = build(world.mine.users[Role.SUPERVISOR], "/registry/filings/12/")
    current = [link for menu in nav["menus"] for link in menu.links if link.current]
    assert [link.key for link in current] == ["registry_filings"]
    # workbench > the menu (no page of its own) > the list the filing belongs to
    assert [c["url"] for c in nav["trail"]] == ["/", "", "/registry/filings/"]
    on_list = build(world.mine.users[Role.SUPERVISOR], "/registry/filings/")["trail"]
    assert on_list[-1]["url"] == ""  # the current page is not a link
    assert build(world.mine.users[Role.SUPERVISOR], "/")["trail"] == []


def test_unknown_menu_is_refused():
    with pytest.raises(ValueError):
        NavEntry("x", "X", "home", "no-such-menu")


def test_an_entry_registered_by_an_app_appears_and_a_missing_url_is_skipped(world):
    navigation.register(NavEntry("zz_test", "Test entry", "no-such-url", "system",
                                 domain="directory"))
    try:
        assert "zz_test" in keys(world.mine.users[Role.SYSTEM_ADMIN])
        links = [link.key for m in build(world.mine.users[Role.SYSTEM_ADMIN], "/")["menus"]
                 for link in m.links]
        assert "zz_test" not in links
    finally:
        navigation.unregister("zz_test")


def test_page_shows_menus_and_unread_badge(world):
    from notifications.services import notify

    user = world.mine.users[Role.OPERATOR]
    notify(recipients=[user], organization=world.mine.city_dept, kind="test",
           message="hello", dedupe_key="t1")
    client = Client()
    client.force_login(user)
    html = client.get("/registry/filings/").content.decode()
    assert 'data-menu="filings"' in html and 'data-menu="system"' not in html
    assert '<ol class="breadcrumb">' in html
    assert 'class="nav-badge"' in html


# The entries a user sees are memoized per process by their roles (issue 9).
def _uncached(user):
    return [e.key for e in entries_for(user)]


def _links(nav):
    return [link for menu in nav["menus"] for link in menu.links] + nav["top"] + nav[
        "tools"
    ]


def test_memoized_entries_do_not_pass_between_users_with_other_roles(world):
    users = world.mine.users
    navigation._VISIBLE.clear()
    for role in (Role.SUPERVISOR, Role.OPERATOR, Role.SECURITY_ADMIN, Role.SUPERVISOR,
                 Role.OPERATOR):
        built = [link.key for link in _links(build(users[role], "/"))]
        assert sorted(built) == sorted(_uncached(users[role])), role
    # the key's premise: where a role is held does not change the entries
    assert _uncached(world.mine.city_supervisor) == _uncached(users[Role.SUPERVISOR])
    # the same roles in another province: the same entries, from the memo
    assert [link.key for link in _links(build(world.other.users[Role.SUPERVISOR], "/"))
            ] == [link.key for link in _links(build(users[Role.SUPERVISOR], "/"))]


def test_memoized_entries_follow_a_role_change(world):
    from accounts.scoping import forget
    from accounts.services import membership_grant

    user = world.mine.users[Role.OPERATOR]
    assert "orgs" not in [link.key for link in _links(build(user, "/"))]
    membership_grant(actor=None, user=user, organization=world.mine.city,
                     role=Role.SUPERVISOR)
    forget(user)
    assert "orgs" in [link.key for link in _links(build(user, "/"))]


def test_memoized_links_are_fresh_per_request(world):
    """`current` and badges belong to one request: the memo keeps entries and URLs
    only, never the Link objects a page marks."""
    from notifications.services import notify

    users = world.mine.users
    notify(recipients=[users[Role.SUPERVISOR]], organization=world.mine.province,
           kind="test", message="hello", dedupe_key="memo1")
    on_filings = build(users[Role.SUPERVISOR], "/registry/filings/")
    on_home = build(users[Role.SUPERVISOR], "/")
    assert [link.key for link in _links(on_filings) if link.current] == [
        "registry_filings"
    ]
    assert [link.key for link in _links(on_home) if link.current] == ["home"]
    assert any(link.badge for link in _links(build(users[Role.SUPERVISOR], "/")))
    assert not any(
        link.badge for link in _links(build(world.other.users[Role.SUPERVISOR], "/"))
    )


def test_memoized_labels_follow_the_language(world):
    client = Client()
    client.force_login(world.mine.users[Role.SUPERVISOR])
    zh = client.get("/registry/ledger/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    en = client.get("/registry/ledger/", HTTP_ACCEPT_LANGUAGE="en")
    assert 'data-key="ledger" aria-current="page">台账' in zh.content.decode()
    assert 'data-key="ledger" aria-current="page">Ledger' in en.content.decode()


def test_registering_an_entry_empties_the_memo(world):
    user = world.mine.users[Role.SYSTEM_ADMIN]
    build(user, "/")
    navigation.register(NavEntry("zz_memo", "Memo entry", "home", "system",
                                 domain="directory"))
    try:
        assert "zz_memo" in [link.key for link in _links(build(user, "/"))]
    finally:
        navigation.unregister("zz_memo")
    assert "zz_memo" not in [link.key for link in _links(build(user, "/"))]


# base.html's loop over the menus before issue 9, the reference of `main_menu`.
MENU_LOOP = """{% for link in nav.top %}<a class="nav-top" href="{{ link.url }}"{% if link.current %} aria-current="page"{% endif %}>{{ link.label }}</a>{% endfor %}
      {% for menu in nav.menus %}
      <details class="navmenu{% if menu.current %} current{% endif %}" data-menu="{{ menu.key }}">
        <summary>{{ menu.label }}</summary>
        <div class="navmenu-panel">{% for link in menu.links %}<a href="{{ link.url }}" data-key="{{ link.key }}"{% if link.current %} aria-current="page"{% endif %}>{{ link.label }}{% if link.badge %} <span class="nav-badge">{{ link.badge }}</span>{% endif %}</a>{% endfor %}</div>
      </details>
      {% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_main_menu_prints_what_the_loop_printed(world, language):
    from django.template import engines
    from django.utils import translation

    from common.templatetags.navigation import main_menu
    from notifications.services import notify

    users = world.mine.users
    notify(recipients=[users[Role.OPERATOR]], organization=world.mine.city_dept,
           kind="test", message="hello", dedupe_key="menu1")
    navigation.register(NavEntry("zz_odd", '<b>"Odd" & \'odd\'</b>', "home", "system",
                                 domain="directory", query="a=1&b=<2>",
                                 badge=lambda user: 7))
    loop = engines["django"].from_string(MENU_LOOP)
    try:
        with translation.override(language):
            for user, path in ((users[Role.SUPERVISOR], "/registry/ledger/"),
                               (users[Role.OPERATOR], "/notifications/"),
                               (users[Role.SYSTEM_ADMIN], "/"),
                               (users[Role.SECURITY_ADMIN], "/accounts/users/")):
                nav = build(user, path)
                assert main_menu(nav) == loop.render({"nav": nav}), (user, path)
            odd = main_menu(build(users[Role.SYSTEM_ADMIN], "/"))
            assert "&lt;b&gt;&quot;Odd&quot; &amp; &#x27;odd&#x27;&lt;/b&gt;" in odd
            assert "?a=1&amp;b=&lt;2&gt;" in odd and '<span class="nav-badge">7' in odd
    finally:
        navigation.unregister("zz_odd")
