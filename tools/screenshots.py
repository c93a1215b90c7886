"""Screenshots of the main pages, for docs/screenshots/ and for looking at the UI.

Starts nothing itself: point it at a running server that holds the demo data
(`manage.py seed_demo`); it signs in as the demo user each page is meant for:

    .venv/bin/python tools/screenshots.py --base-url http://127.0.0.1:8124 \
        [--password Demo-Password-2026] [--language zh-hans|en] [--out docs/screenshots] \
        [--only NAME ...]

| user | pages |
| --- | --- |
| demo-supervisor | sign-in, home (the supervisor's workbench), the menus at 1024 px, organization tree and detail, registry overview, accounts, ledger, import, counterfeit check, a directive's completion by organization |
| demo-secadmin, demo-auditadmin | roles and people, user administration (list, a person, new user); audit trail |
| demo-city-supervisor | filing approval queue, a filing |
| demo-principal | openings and closures to sign off, deputies (代签) |
| demo-operator | the operator's workbench, account history, drafting page with live pre-check hits, own posts, directive board, rotation tasks, notifications |
| demo-depthead | the reviewer's workbench, reviewer queue, review page with the diff of a resubmitted post |
| demo-auditor | the auditor's workbench |
| demo-secrecy | the sign-off sheet of an approved post (PDF rendered by pdftoppm) |

Every PNG is 1280x800 (the viewport; the sign-off sheet is cropped to it). Uses
Debian's Chromium (/usr/bin/chromium) through Playwright; never a downloaded browser.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"


def totp_code(username: str) -> str:
    """The current second-factor code of a demo user's confirmed TOTP device, from the
    database in DATABASE_URL (the demo server's); waits for the next time step if
    this one's code was used already (django-otp refuses a replay)."""
    import os
    import time

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Playwright's sync API runs an event loop in this thread; these few ORM reads
    # of a dev tool do not share it.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    while device.last_t >= int(time.time()) // device.step:
        time.sleep(1)
        device.refresh_from_db()
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{code:0{device.digits}d}"
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
DEMO_PASSWORD = "Demo-Password-2026"


class Shooter:
    def __init__(self, browser, base: str, out: Path, language: str, password: str,
                 only: set[str]):
        self.browser, self.base, self.out = browser, base, out
        self.language, self.password, self.only = language, password, only
        self.suffix = "" if language == "zh-hans" else f"-{language}"
        self.saved: list[Path] = []
        self.skipped: list[str] = []

    def wanted(self, name: str) -> bool:
        return not self.only or name in self.only

    def session(self, username: str | None):
        """A fresh browser context, signed in as `username` (None: signed out)."""
        # Chromium wants a region locale (date inputs, Accept-Language).
        locale = "zh-CN" if self.language == "zh-hans" else "en-US"
        context = self.browser.new_context(viewport=VIEWPORT, locale=locale)
        host = self.base.split("://", 1)[-1].split("/", 1)[0].split(":")[0]
        context.add_cookies([{"name": "django_language", "value": self.language,
                              "domain": host, "path": "/"}])
        page = context.new_page()
        if username:
            page.goto(f"{self.base}/accounts/login/")
            page.fill("#id_username", username)
            page.fill("#id_password", self.password)
            page.click("form.form-stack button[type=submit]")
            page.wait_for_load_state("load")
            if "/accounts/second-factor/" in page.url:
                # Administrators sign in with their app's code: read from the
                # demo database the server uses (DATABASE_URL), as the app would
                # show it.
                page.fill("input[name=code]", totp_code(username))
                page.press("input[name=code]", "Enter")
            page.wait_for_url(f"{self.base}/")
        return context, page

    def shoot(self, page, name: str) -> None:
        path = self.out / f"{name}{self.suffix}.png"
        page.screenshot(path=str(path), full_page=False)
        self.saved.append(path)

    def visit(self, page, name: str, path: str, card: int | None = None) -> None:
        """Open `path` and shoot it; `card`: first scroll that card (an index into the
        page's `section.card`s, negative from the end) to the top."""
        if not self.wanted(name):
            return
        page.goto(f"{self.base}{path}")
        page.wait_for_load_state("networkidle")
        if card is not None:
            scroll_to_card(page, card)
        self.shoot(page, name)

    def first_link(self, page, list_path: str, pattern: str, last: bool = False) -> str | None:
        """The first (or last) link on `list_path` whose href matches `pattern`."""
        page.goto(f"{self.base}{list_path}")
        hrefs = page.eval_on_selector_all(
            "a[href]", "els => els.map(e => e.getAttribute('href'))")
        found = [h for h in hrefs if h and re.fullmatch(pattern, h)]
        if not found:
            return None
        return found[-1] if last else found[0]

    def skip(self, name: str, why: str) -> None:
        self.skipped.append(f"{name}: {why}")


def scroll_to_card(page, index: int) -> None:
    """Scroll the page so the chosen card sits just below the sticky top bar."""
    page.evaluate(
        """(i) => { const cards = [...document.querySelectorAll('section.card')];
                    const card = cards.at(i); if (!card) return;
                    const bar = document.querySelector('.topbar');
                    const top = card.getBoundingClientRect().top + window.scrollY;
                    window.scrollTo(0, top - (bar ? bar.offsetHeight : 0) - 16); }""",
        index,
    )
    page.wait_for_timeout(200)


def supervisor_pages(s: Shooter) -> None:
    context, page = s.session(None)
    s.visit(page, "login", "/accounts/login/")
    context.close()
    context, page = s.session("demo-supervisor")
    if s.wanted("home"):
        s.shoot(page, "home")
    if s.wanted("navigation-1024"):
        # The menus at the narrowest supported desktop width, one menu open.
        page.set_viewport_size({"width": 1024, "height": 640})
        page.locator("nav.mainnav details[data-menu=registry] > summary").click()
        s.shoot(page, "navigation-1024")
        page.set_viewport_size(VIEWPORT)
        page.goto(f"{s.base}/")

    if s.wanted("org-tree") or s.wanted("org-detail"):
        page.goto(f"{s.base}/accounts/orgs/")
        # Expand the first root and its first expandable child, to show the lazy tree.
        toggle = page.locator("button.tree-toggle").first
        if toggle.count():
            toggle.click()
            page.wait_for_selector("ul.tree-children")
            nested = page.locator("ul.tree-children button.tree-toggle").first
            if nested.count():
                nested.click()
                # Not wait_for_function: the CSP (script-src 'self') forbids eval.
                page.locator("ul.tree-children").nth(1).wait_for()
        if s.wanted("org-tree"):
            s.shoot(page, "org-tree")
        # An organization with units below it: the first expandable nested one.
        link = page.locator("ul.tree-children li:has(button.tree-toggle) a.name").first
        if link.count():
            link.click()
        else:
            page.locator("ul.tree a.name").first.click()
        page.wait_for_load_state()
        if s.wanted("org-detail"):
            s.shoot(page, "org-detail")

    s.visit(page, "registry-overview", "/registry/overview/")
    s.visit(page, "supervision-dashboard", "/supervision/")
    s.visit(page, "supervision-trend", "/supervision/", card=-1)
    s.visit(page, "supervision-findings", "/supervision/findings/")
    s.visit(page, "supervision-orders", "/supervision/orders/?status=")
    s.visit(page, "registry-accounts", "/registry/accounts/")
    s.visit(page, "ledger", "/registry/ledger/")
    s.visit(page, "ledger-import", "/registry/ledger/import/")
    if s.wanted("counterfeit-check"):
        page.goto(f"{s.base}/registry/counterfeit/")
        # Registered names, look-alikes and an unknown profile URL: every verdict.
        field = page.locator("#id_candidates")
        if field.count():
            field.fill("苍澜公安\n苍澜警方发布\n云岭公安厅官微\n青岚发布\n"
                       "https://weibo.com/u/1234567890")
            page.locator("form.form-stack button.primary").first.click()
            page.wait_for_load_state("networkidle")
            scroll_to_card(page, 1)
        s.shoot(page, "counterfeit-check")
    if s.wanted("directive-detail"):
        href = s.first_link(page, "/moderation/directives/", r"/moderation/directives/\d+/")
        if href:
            s.visit(page, "directive-detail", href, card=-1)
        else:
            s.skip("directive-detail", "no directive listed")
    context.close()


def admin_pages(s: Shooter) -> None:
    """The three administrators are separate people: access, then audit."""
    context, page = s.session("demo-secadmin")
    s.visit(page, "roles-and-people", "/accounts/access/")
    s.visit(page, "user-admin", "/accounts/users/")
    person = s.first_link(page, "/accounts/users/", r"^/accounts/users/\d+/$")
    if person:
        s.visit(page, "user-admin-person", person)
    else:
        s.skip("user-admin-person", "no user listed")
    s.visit(page, "user-admin-new", "/accounts/users/new/")
    context.close()
    context, page = s.session("demo-auditadmin")
    s.visit(page, "audit-trail", "/audit/")
    context.close()


def city_supervisor_pages(s: Shooter) -> None:
    context, page = s.session("demo-city-supervisor")
    s.visit(page, "filing-queue", "/registry/filings/queue/")
    if s.wanted("filing-detail"):
        # The queue lists the oldest first: the last is the demo's late change filing.
        href = s.first_link(page, "/registry/filings/queue/", r"/registry/filings/\d+/",
                            last=True)
        if href:
            s.visit(page, "filing-detail", href)
        else:
            s.skip("filing-detail", "the queue is empty")
    context.close()


def principal_pages(s: Shooter) -> None:
    """The principal leader signs openings off and appoints deputies (代签)."""
    context, page = s.session("demo-principal")
    s.visit(page, "signoff-queue", "/registry/filings/sign-off/")
    s.visit(page, "deputies", "/moderation/deputies/")
    context.close()


def operator_pages(s: Shooter) -> None:
    context, page = s.session("demo-operator")
    s.visit(page, "workbench-operator", "/")
    if s.wanted("account-history"):
        # The Weibo account with the most history: filings, custody, a directive.
        page.goto(f"{s.base}/registry/accounts/")
        row = page.locator("tr", has_text=re.compile("微博|Weibo")).filter(
            has=page.locator("a[href^='/registry/accounts/']")).first
        href = None
        if row.count():
            href = row.locator("a[href^='/registry/accounts/']").first.get_attribute("href")
        if href:
            s.visit(page, "account-history", href.rstrip("/") + "/history/")
        else:
            s.skip("account-history", "no Weibo account listed")
    if s.wanted("post-drafting"):
        href = s.first_link(page, "/moderation/posts/?status=draft", r"/moderation/posts/\d+/")
        if href:
            page.goto(f"{s.base}{href}edit/")
            # Typing triggers the live pre-check; wait for its hits to show.
            text = page.locator("#post-form textarea").first
            text.press("End")
            text.type(" ")
            try:
                page.wait_for_selector("#precheck-hits li", timeout=10000)
            except Exception:  # noqa: BLE001 - shown anyway, reported below
                s.skip("post-drafting", "no live pre-check hits appeared")
            page.wait_for_timeout(300)
            s.shoot(page, "post-drafting")
        else:
            s.skip("post-drafting", "no draft listed")
    s.visit(page, "post-list", "/moderation/posts/")
    s.visit(page, "directive-board", "/moderation/directives/")
    s.visit(page, "rotation-tasks", "/registry/rotations/")
    s.visit(page, "notifications", "/notifications/")
    context.close()


def reviewer_pages(s: Shooter) -> None:
    context, page = s.session("demo-depthead")
    s.visit(page, "workbench-reviewer", "/")
    s.visit(page, "review-queue", "/moderation/queue/")
    if s.wanted("review-diff"):
        href = s.first_link(page, "/moderation/queue/", r"/moderation/posts/\d+/")
        if href:
            page.goto(f"{s.base}{href}")
            diff = page.locator("section.card", has_text=re.compile("修订|revision"))
            page.wait_for_load_state("networkidle")
            if diff.count():
                diff.last.scroll_into_view_if_needed()
            s.shoot(page, "review-diff")
        else:
            s.skip("review-diff", "the queue is empty")
    context.close()
    context, page = s.session("demo-auditor")
    s.visit(page, "workbench-auditor", "/")
    context.close()


def signoff_pages(s: Shooter) -> None:
    if not s.wanted("signoff-sheet"):
        return
    if shutil.which("pdftoppm") is None:
        s.skip("signoff-sheet", "pdftoppm is not installed (poppler-utils)")
        return
    context, page = s.session("demo-secrecy")
    href = s.first_link(page, "/moderation/posts/?mine=0&status=approved", r"/moderation/posts/\d+/")
    if not href:
        s.skip("signoff-sheet", "no approved post listed")
        context.close()
        return
    response = context.request.get(f"{s.base}{href}signoff.pdf")
    if not response.ok or not response.body().startswith(b"%PDF"):
        s.skip("signoff-sheet", f"no PDF ({response.status})")
        context.close()
        return
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "signoff.pdf"
        pdf.write_bytes(response.body())
        # First page, 1280 px wide, cropped to the viewport's height.
        subprocess.run(
            ["pdftoppm", "-png", "-f", "1", "-l", "1", "-singlefile",
             "-scale-to-x", "1280", "-scale-to-y", "-1", "-x", "0", "-y", "0",
             "-W", "1280", "-H", "800", str(pdf), str(Path(tmp) / "page")],
            check=True,
        )
        target = s.out / f"signoff-sheet{s.suffix}.png"
        shutil.copyfile(Path(tmp) / "page.png", target)
        s.saved.append(target)
    context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--password", default=DEMO_PASSWORD)
    parser.add_argument("--language", default="zh-hans", choices=["zh-hans", "en"])
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--only", nargs="*", default=[], help="names of the shots to take")
    args = parser.parse_args(argv)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                    headless=True)
        shooter = Shooter(browser, args.base_url.rstrip("/"), out, args.language,
                          args.password, set(args.only))
        for pages in (supervisor_pages, admin_pages, city_supervisor_pages, principal_pages,
                      operator_pages,
                      reviewer_pages, signoff_pages):
            pages(shooter)
        browser.close()

    for path in shooter.saved:
        print(path)
    for line in shooter.skipped:
        print("skipped:", line, file=sys.stderr)
    return 1 if shooter.skipped else 0


if __name__ == "__main__":
    sys.exit(main())
