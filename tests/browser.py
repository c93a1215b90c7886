"""Playwright on Debian's Chromium, for browser tests against pytest-django's live_server.

Use it from a test module with

    from tests.browser import browser_page  # noqa: F401  (fixture)

    @pytest.mark.browser
    def test_something(browser_page, live_server, ...):
        browser_page.goto(live_server.url + "/")

No browser is downloaded: the test is skipped, with the reason printed, when
/usr/bin/chromium is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture
def browser_page(transactional_db, live_server, monkeypatch):
    """A fresh Chromium page (zh-CN locale, 1280x800); closed after the test.

    Playwright's sync API runs an event loop in this thread, so Django would refuse
    ORM calls made by the test itself; the live server runs in its own thread and is
    unaffected. Hence DJANGO_ALLOW_ASYNC_UNSAFE for the test's duration only.
    """
    if not CHROMIUM.exists():
        reason = "Debian chromium not installed: apt-get install chromium"
        print(reason)
        pytest.skip(reason)
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed"
    )
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()
