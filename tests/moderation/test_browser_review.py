"""Done-when, in a real browser: an operator drafts an important post with a soft
hit and overrides it with a reason; the department head, then the leader in charge,
then the confidentiality reviewer approve; the operator marks it published; the
sign-off sheet shows every step."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from accounts.models import Role
from moderation.models import Post, TermKind
from tests.browser import browser_page  # noqa: F401  (fixture)
from tests.factories import PASSWORD
from tests.moderation.factories import SOFT, make_account, make_dictionary

pytestmark = pytest.mark.browser


def sign_in(page, base, user):
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_review_flow_in_browser(browser_page, live_server, world):  # noqa: F811
    page, base, ns = browser_page, live_server.url, world.mine
    make_dictionary(ns, TermKind.COMMON_ERROR, [("国务院办公室", "国务院办公厅", SOFT)])
    account = make_account(ns.city_dept, "weibo", name="甲一市公安微博")

    # The operator drafts; the pre-check highlights the soft hit while typing.
    sign_in(page, base, ns.users[Role.OPERATOR])
    page.goto(f"{base}/moderation/posts/new/")
    page.fill("#id_title", "关于转发通知的说明")
    page.locator("#id_text").press_sequentially("根据国务院办公室通知，现转发如下。", delay=5)
    hit = page.locator("#precheck-hits li.soft")
    hit.wait_for()
    assert "国务院办公厅" in hit.inner_text()
    assert page.locator("#precheck-backdrop mark.hit-soft").inner_text() == "国务院办公室"
    page.check(f"input[name=accounts][value='{account.pk}']")
    page.select_option("#id_importance", "important")
    page.click("#save-post")
    page.wait_for_url(re.compile(r"/moderation/posts/\d+/$"))
    post = Post.objects.get(title="关于转发通知的说明")

    # Submitting without a reason is refused; with one it goes to review.
    page.click("#submit-button")
    page.locator(".message.error").wait_for()
    page.fill("input[name='override:common_error:国务院办公室']", "引用文件原标题")
    page.click("#submit-button")
    page.locator("#post-status[data-status=in_review]").wait_for()

    for role in (Role.DEPARTMENT_HEAD, Role.LEADER_IN_CHARGE, Role.CONFIDENTIALITY_REVIEWER):
        sign_in(page, base, ns.users[role])
        page.goto(f"{base}/moderation/queue/")
        page.locator("#queue a", has_text="关于转发通知的说明").click()
        assert "引用文件原标题" in page.locator("#overrides").inner_text()
        page.click("#approve-button")
        page.locator(f"#review-steps li[data-role={role.value}][data-status=approved]").wait_for()

    page.locator("#post-status[data-status=approved]").wait_for()

    sign_in(page, base, ns.users[Role.OPERATOR])
    page.goto(f"{base}/moderation/posts/{post.pk}/")
    page.fill("#pub-url", "https://weibo.com/123456/PqRsT")
    page.click("#publish-button")
    page.locator("#post-status[data-status=published]").wait_for()
    assert "https://weibo.com/123456/PqRsT" in page.locator("#publications").inner_text()

    href = page.locator("#signoff-link").get_attribute("href")
    response = page.request.get(base + href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pdf = response.body()
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                              check=True).stdout.decode()
        text = re.sub(r"\s+", "", text)  # table cells wrap long names
        for role in (Role.DEPARTMENT_HEAD, Role.LEADER_IN_CHARGE, Role.CONFIDENTIALITY_REVIEWER):
            assert str(ns.users[role]) in text
        assert post.signoffs.get().number in text
    else:
        print("pdftotext missing (apt-get install poppler-utils): PDF text not checked")
