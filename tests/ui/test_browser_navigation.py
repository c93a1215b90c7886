"""The menus by task in a real browser: from 1024 px up every item is visible and
clickable; on a phone the menu button opens them."""

from __future__ import annotations

import re

import pytest

from accounts import services
from accounts.models import Role
from common.navigation import build
from tests.browser import browser_page  # noqa: F401  (fixture)
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def _sign_in(page, url, user):
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(f"{url}/")


def _busy_user(world):
    """A supervisor who also operates and heads a department: the most menu items."""
    user = world.mine.users[Role.SUPERVISOR]
    for role in (Role.OPERATOR, Role.DEPARTMENT_HEAD):
        services.membership_grant(actor=None, user=user, organization=world.mine.city_dept,
                                  role=role)
    return user


def _inside(box, width):
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5


@pytest.mark.parametrize("width", [1024, 1440])
def test_every_navigation_item_visible_and_clickable(browser_page, live_server, world,  # noqa: F811
                                                     width):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 768})
    user = _busy_user(world)
    _sign_in(page, live_server.url, user)
    expected = build(user, "/")
    assert len(expected["menus"]) >= 5, [m.key for m in expected["menus"]]

    bar = page.locator("header.topbar .topbar-inner")
    assert bar.evaluate("e => e.scrollWidth <= e.clientWidth"), "the bar overflows"
    nav = page.locator("nav.mainnav")
    for link in expected["top"]:
        item = nav.locator(f"a.nav-top[href='{link.url}']")
        assert item.is_visible() and _inside(item.bounding_box(), width), link.key
    for tool in expected["tools"]:
        item = page.locator(f".user-tools a[data-key={tool.key}]")
        assert item.is_visible() and _inside(item.bounding_box(), width), tool.key

    clicked = 0
    for menu in expected["menus"]:
        for link in menu.links:
            summary = nav.locator(f"details[data-menu={menu.key}] > summary")
            assert summary.is_visible() and _inside(summary.bounding_box(), width), menu.key
            summary.click()
            item = nav.locator(f"details[data-menu={menu.key}] a[data-key={link.key}]")
            assert item.is_visible(), link.key
            assert _inside(item.bounding_box(), width), link.key
            # Only one menu is open at a time.
            assert nav.locator("details.navmenu[open]").count() == 1
            item.click()
            page.wait_for_url(re.compile(re.escape(link.url.split("?")[0])))
            assert page.locator("main").is_visible()
            clicked += 1
    assert clicked == sum(len(m.links) for m in expected["menus"])


def test_phone_menu_opens_from_the_menu_button(browser_page, live_server, world):  # noqa: F811
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    user = _busy_user(world)
    _sign_in(page, live_server.url, user)
    nav = page.locator("nav.mainnav")
    assert not nav.is_visible()
    page.locator("details.nav-toggle > summary").click()
    assert nav.is_visible()
    page.locator("nav.mainnav details[data-menu=reposts] > summary").click()
    link = nav.locator("details[data-menu=reposts] a[data-key=directives]")
    assert link.is_visible() and _inside(link.bounding_box(), 390)
    link.click()
    page.wait_for_url(re.compile(r"/moderation/directives/$"))
    assert page.locator("h1").inner_text() == "转发任务"
