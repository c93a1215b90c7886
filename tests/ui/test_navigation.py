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
