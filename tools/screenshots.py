"""Screenshots of the main pages, for docs/screenshots/ and for looking at the UI.

Starts nothing itself: point it at a running server and a user who may see the
organization tree and the audit trail, e.g.

    .venv/bin/python tools/screenshots.py --base-url http://127.0.0.1:8123 \
        --username demo-supervisor --password '...' [--language zh-hans|en] [--out docs/screenshots]

Uses Debian's Chromium (/usr/bin/chromium) through Playwright; never a downloaded browser.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--language", default="zh-hans", choices=["zh-hans", "en"])
    parser.add_argument("--out", default="docs/screenshots")
    args = parser.parse_args(argv)

    base = args.base_url.rstrip("/")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.language == "zh-hans" else f"-{args.language}"
    saved: list[Path] = []

    def shoot(page, name: str) -> None:
        path = out / f"{name}{suffix}.png"
        page.screenshot(path=str(path), full_page=False)
        saved.append(path)

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        # Chromium wants a region locale (date inputs, Accept-Language).
        browser_locale = "zh-CN" if args.language == "zh-hans" else "en-US"
        context = browser.new_context(viewport=VIEWPORT, locale=browser_locale)
        host = base.split("://", 1)[-1].split("/", 1)[0].split(":")[0]
        context.add_cookies(
            [
                {
                    "name": "django_language",
                    "value": args.language,
                    "domain": host,
                    "path": "/",
                }
            ]
        )
        page = context.new_page()

        page.goto(f"{base}/accounts/login/")
        shoot(page, "login")
        page.fill("#id_username", args.username)
        page.fill("#id_password", args.password)
        page.click("form.form-stack button[type=submit]")
        page.wait_for_url(f"{base}/")
        shoot(page, "home")

        page.goto(f"{base}/accounts/orgs/")
        # Expand the first root and its first expandable child, to show the lazy tree.
        toggle = page.locator("button.tree-toggle").first
        if toggle.count():
            toggle.click()
            page.wait_for_selector("ul.tree-children")
            nested = page.locator("ul.tree-children button.tree-toggle").first
            if nested.count():
                nested.click()
                page.wait_for_function(
                    "document.querySelectorAll('ul.tree-children').length > 1"
                )
        shoot(page, "org-tree")

        # An organization with units below it: the first expandable nested one.
        link = page.locator("ul.tree-children li:has(button.tree-toggle) a.name").first
        if link.count():
            link.click()
        else:
            page.locator("ul.tree a.name").first.click()
        page.wait_for_load_state()
        shoot(page, "org-detail")

        page.goto(f"{base}/accounts/access/")
        shoot(page, "roles-and-people")

        page.goto(f"{base}/audit/")
        shoot(page, "audit-trail")

        browser.close()

    for path in saved:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
