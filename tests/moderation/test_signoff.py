"""The sign-off sheet PDF: a CJK font embedded as a subset (checked with pdffonts),
text that extracts as Chinese (pdftotext), signature and date lines for drafter,
checker and issuer, a seal area, and a verification code the public page checks."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from django.test import Client

from accounts.models import Role, User
from moderation import signoff
from moderation.models import SignOffSheet, TermKind
from tests.moderation.factories import (
    SOFT,
    approve_all,
    make_dictionary,
    make_post,
    submit,
)

pytestmark = pytest.mark.django_db


def _need(tool):
    if not shutil.which(tool):
        reason = f"{tool} missing (apt-get install poppler-utils)"
        print(reason)
        pytest.skip(reason)


@pytest.fixture
def sheet(world):
    ns = world.mine
    for role, name in ((Role.OPERATOR, "演示·运维人员"), (Role.DEPARTMENT_HEAD, "演示·部门负责人"),
                       (Role.CONFIDENTIALITY_REVIEWER, "演示·保密审查员")):
        User.objects.filter(pk=ns.users[role].pk).update(display_name=name)
        ns.users[role].refresh_from_db()
    make_dictionary(ns, "common_error", [("截止到", "截至", SOFT)])
    post = make_post(ns, text="截止到今天，·活动👍圆满结束。" + "各单位要认真落实。" * 40,
                     title="反诈·宣传")
    submit(post, ns, overrides={"common_error:截止到": "引用原文"})
    approve_all(post, ns)
    return SignOffSheet.objects.get(post=post)


def test_characters_the_font_lacks_are_spelled_out():
    assert signoff.drawable("演示·运维人员") == ("演示·运维人员", False)
    assert signoff.drawable("好\u200b评👍\ufe0f") == ("好评[U+1F44D]", True)


def test_font_is_embedded_as_a_subset(sheet):
    _need("pdffonts")
    pdf = signoff.signoff_pdf(sheet)
    out = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True)
    rows = out.stdout.decode().splitlines()[2:]
    assert rows, out.stdout
    for row in rows:
        name, *_rest = row.split()
        cols = row.split()
        # emb and sub columns: "yes yes"; a subset's name carries a "ABCDEF+" tag.
        assert re.match(r"^[A-Z]{6}\+", name), row
        assert cols[-5:-3] == ["yes", "yes"], row


def test_text_extracts_as_chinese_with_signature_lines_and_code(sheet):
    _need("pdftotext")
    pdf = signoff.signoff_pdf(sheet)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf,
                          capture_output=True, check=True).stdout.decode()
    flat = re.sub(r"\s+", "", text)
    for name in ("演示·运维人员", "演示·部门负责人", "演示·保密审查员"):
        assert name in flat, flat[:400]
    for label in ("拟稿", "核稿", "签发", "签字", "日期", "盖章", "审签单"):
        assert label in flat, label
    assert sheet.number in flat
    assert signoff.verification_code(sheet) in flat
    from django.utils import translation

    with translation.override("zh-hans"):  # the sheet is always in Chinese
        assert f"({TermKind.COMMON_ERROR.label})" in flat
    assert "[U+1F44D]" in flat and "\ufffd" not in text
    # Headings are whole words: no heading is split across lines.
    for heading in ("审核人", "审核结论", "发布账号"):
        assert heading in text, heading


def test_verify_page_accepts_a_real_sheet_and_rejects_a_forged_one(sheet):
    client = Client()  # anonymous: the page is public
    code = signoff.verification_code(sheet)
    ok = client.get("/verify/", {"number": sheet.number, "code": code})
    assert ok.status_code == 200 and 'data-genuine="1"' in ok.content.decode()
    # Lower case, without the dash: still genuine.
    loose = client.get("/verify/", {"number": sheet.number,
                                    "code": code.replace("-", "").lower()})
    assert 'data-genuine="1"' in loose.content.decode()
    for number, forged in ((sheet.number, "AAAAA-AAAAA"), (sheet.number + "9", code),
                           ("", "")):
        page = client.get("/verify/", {"number": number, "code": forged}).content.decode()
        assert 'data-genuine="1"' not in page
        if number:
            assert 'data-genuine="0"' in page
    # The page says genuine or not, nothing of the sheet's content.
    assert sheet.post.title not in ok.content.decode()
    assert client.get("/verify/").status_code == 200
