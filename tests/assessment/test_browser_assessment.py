"""Done when: as the demo auditor in the browser (Playwright, Debian Chromium), open
the demo province's annual assessment, export XLSX and PDF; the PDF pages, rendered to
images, show the Chinese text (the font is embedded)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser import browser_page  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser
DEMO_PASSWORD = "Demo-Password-2026"


@pytest.fixture
def eager(monkeypatch):
    from config.celery import app

    monkeypatch.setitem(app.conf, "CELERY_TASK_ALWAYS_EAGER", True)
    monkeypatch.setitem(app.conf, "CELERY_TASK_EAGER_PROPAGATES", True)
    assert app.conf.task_always_eager


def _dark_share(png: bytes) -> float:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    top = image.crop((0, 0, image.width, image.height // 6))
    pixels = list(top.getdata())
    return sum(1 for p in pixels if p < 128) / len(pixels)


def test_the_demo_auditor_exports_the_frozen_year(
    browser_page,  # noqa: F811
    live_server,
    eager,
    tmp_path,
):
    from django.apps import apps

    if not apps.is_installed("exportjobs"):
        reason = "the export-jobs app (exportjobs) is not installed: exports cannot run"
        print(reason)
        pytest.skip(reason)
    if shutil.which("pdftoppm") is None:
        print("poppler-utils (pdftoppm) missing: apt-get install poppler-utils")
        pytest.skip("poppler-utils (pdftoppm) is not installed")
    call_command("seed_demo", stdout=io.StringIO())
    page, base = browser_page, live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "demo-auditor")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/assessment/years/")
    page.locator("#freezes tbody a").first.click()
    page.wait_for_url(re.compile(r"/assessment/years/\d+/$"))
    assert "云岭省人民政府" in page.locator("h1").inner_text()
    page.screenshot(path=str(tmp_path / "year.png"), full_page=True)

    page.click("#export-xlsx")
    page.wait_for_selector("#export-jobs a.download")
    with page.expect_download() as info:
        page.locator("#export-jobs a.download").first.click()
    xlsx = tmp_path / "year.xlsx"
    info.value.save_as(xlsx)
    with zipfile.ZipFile(xlsx) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    assert len(sheets) == 7

    page.click("#export-pdf")
    expect(page.locator("#export-jobs a.download")).to_have_count(2, timeout=30000)
    with page.expect_download() as info:
        page.locator("#export-jobs tbody tr").first.locator("a.download").click()
    pdf = tmp_path / "report.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True
    ).stdout
    assert "CJK" in fonts and all(" yes yes " in row for row in fonts.splitlines()[2:])
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True
    ).stdout
    assert "云岭省人民政府" in text and "年度政务新媒体考核报告" in text
    # Rendered to an image, the first page's title band carries the drawn characters
    # (an empty or unrenderable font leaves it blank).
    png = subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf)],
        capture_output=True,
    ).stdout
    (tmp_path / "page1.png").write_bytes(png)
    assert _dark_share(png) > 0.003
