"""The sign-off sheet PDF draws every character of the names and the text: what the
CID font's encoding lacks is replaced by a look-alike it has, or written as its code
point, never drawn as an empty box."""

from __future__ import annotations

import re
import shutil
import subprocess
from html import unescape

import pytest

from accounts.models import Role, User
from moderation import signoff
from moderation.models import SignOffSheet, TermKind
from moderation.pdf_glyphs import is_covered, pdf_text, pdf_text_checked
from tests.moderation.factories import (
    SOFT,
    approve_all,
    make_dictionary,
    make_post,
    submit,
)

pytestmark = pytest.mark.django_db


def test_middle_dot_becomes_the_gb2312_middle_dot():
    # The premise: UniGB-UCS2-H lacks U+00B7 and has U+30FB.
    assert not is_covered("\u00b7") and is_covered("\u30fb")
    assert pdf_text("演示·运维人员") == "演示\u30fb运维人员"
    assert pdf_text("张三•李四‧王五") == "张三\u30fb李四\u30fb王五"


def test_covered_text_is_unchanged_and_the_rest_is_spelled_out():
    text = "【反诈提醒】11月20日，“国家反诈中心”App。第①条 — 0871-6300110\nA\tB"
    assert pdf_text(text) == text
    assert pdf_text("© ™") == "(C) TM"
    assert pdf_text("好\u200b评👍\ufe0f") == "好评[U+1F44D]"
    assert pdf_text_checked("ñ") == ("[U+00F1]", True)
    assert pdf_text_checked("Ａ·") == ("Ａ\u30fb", False)
    assert all(is_covered(c) for c in pdf_text("©·•‧™ ñ😀") if c not in "\n\t")


@pytest.fixture
def sheet(world):
    ns = world.mine
    for role, name in ((Role.OPERATOR, "演示·运维人员"), (Role.DEPARTMENT_HEAD, "演示·部门负责人"),
                       (Role.CONFIDENTIALITY_REVIEWER, "演示·保密审查员")):
        User.objects.filter(pk=ns.users[role].pk).update(display_name=name)
        ns.users[role].refresh_from_db()
    make_dictionary(ns, "common_error", [("截止到", "截至", SOFT)])
    post = make_post(ns, text="截止到今天，·活动👍圆满结束。", title="反诈·宣传")
    submit(post, ns, overrides={"common_error:截止到": "引用原文"})
    approve_all(post, ns)
    return SignOffSheet.objects.get(post=post)


def test_every_drawn_character_is_in_the_font(sheet, monkeypatch):
    drawn = []
    real = signoff.Paragraph

    def recording(text, style, *args, **kwargs):
        drawn.append(unescape(re.sub(r"<br/>", "\n", text)))
        return real(text, style, *args, **kwargs)

    monkeypatch.setattr(signoff, "Paragraph", recording)
    pdf = signoff.signoff_pdf(sheet)
    assert pdf.startswith(b"%PDF")
    everything = "\n".join(drawn)
    missing = {c for c in everything if c not in "\n\t" and not is_covered(c)}
    assert not missing, missing
    assert "演示\u30fb运维人员" in everything
    assert "演示\u30fb部门负责人" in everything
    assert "[U+1F44D]" in everything
    # The override shows the kind's label, not its code.
    assert f"({TermKind.COMMON_ERROR.label})" in everything
    assert "(common_error)" not in everything


def test_pdftotext_reads_the_names_back(sheet):
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext missing (apt-get install poppler-utils)")
    pdf = signoff.signoff_pdf(sheet)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf,
                          capture_output=True, check=True).stdout.decode()
    text = re.sub(r"\s+", "", text)  # table cells wrap long names
    # The middle dot comes back as a middle dot (U+00B7 or U+30FB, by the
    # viewer's CID-to-Unicode table), never as nothing or a replacement character.
    for name in ("运维人员", "部门负责人", "保密审查员"):
        assert re.search(f"演示[\u00b7\u30fb]{name}", text), text
    assert "\ufffd" not in text
