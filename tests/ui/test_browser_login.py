"""A person signs in through the form and walks the main pages in a real browser."""

from __future__ import annotations

import re

import pytest

from accounts.models import Role
from tests.browser import browser_page  # noqa: F401  (fixture)
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_sign_in_browse_tree_switch_language_sign_out(browser_page, live_server, world):  # noqa: F811
    page = browser_page
    supervisor = world.mine.users[Role.SUPERVISOR]

    page.goto(f"{live_server.url}/")
    # Anonymous visitors are sent to the sign-in form, in Chinese by default.
    assert "/accounts/login/" in page.url
    assert page.locator("h1").inner_text() == "登录"

    page.fill("#id_username", supervisor.username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    roles = page.locator("#my-roles").locator("xpath=..")
    assert "主管单位监管员" in roles.inner_text()
    assert world.mine.province.name in page.locator("main").inner_text()
    assert world.other.province.name not in page.content()

    # The organization tree, from the navigation bar.
    page.locator("nav.mainnav details[data-menu=system] > summary").click()
    page.locator("nav.mainnav").get_by_role("link", name="组织机构", exact=True).click()
    page.wait_for_url(re.compile(r"/accounts/orgs/$"))
    assert page.locator("nav.mainnav a[aria-current=page]").text_content() == "组织机构"
    assert page.locator("nav.mainnav details.current > summary").inner_text() == "系统管理"
    root = page.locator("ul.tree > li").first
    assert world.mine.province.name in root.inner_text()

    # Expanding the root loads its children lazily; then open a child organization.
    root.locator("button.tree-toggle").click()
    child_link = root.locator("ul.tree-children a.name", has_text=world.mine.city.name)
    child_link.wait_for()
    child_link.click()
    page.wait_for_url(re.compile(rf"/accounts/orgs/{world.mine.city.pk}/$"))
    assert page.locator("h1").inner_text() == world.mine.city.name
    breadcrumb = page.locator("ol.breadcrumb").inner_text()
    assert world.mine.province.name in breadcrumb
    assert world.mine.county.name in page.locator("main").inner_text()

    # Switch to English: the same page comes back in English.
    page.select_option("#language-select", "en")
    page.wait_for_load_state("load")
    page.locator("html[lang=en]").wait_for()
    assert page.locator("h1").inner_text() == world.mine.city.name
    assert "Units below" in page.locator("main").inner_text()
    assert (
        page.locator("nav.mainnav a[aria-current=page]").text_content() == "Organizations"
    )

    # Sign out from the user menu.
    page.locator("details.user-menu > summary").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    assert page.locator("h1").inner_text() == "Sign in"
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
