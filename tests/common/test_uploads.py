"""The upload allow-list (issue 8, item 12): what a file is comes from its bytes, and
its name must agree."""

from __future__ import annotations

import pytest

from common.errors import ValidationFailed
from common.uploads import upload_check
from tests.common.upload_samples import (
    EXE,
    HTML,
    SVG,
    docx_bytes,
    pdf_bytes,
    plain_zip_bytes,
    png_bytes,
    upload,
)


def _id(value):
    """Readable, stable test ids: file names and codes as they are, file contents by
    kind (generated PDFs differ from run to run, which xdist workers must not see)."""
    return value if isinstance(value, str) else "bytes"



def refused(name, data, **kw) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        upload_check(upload(name, data, **kw))
    assert "file" in info.value.fields
    return info.value


def test_disguised_executable_is_refused():
    error = refused("通知.pdf", EXE, content_type="application/pdf")
    assert error.code == "upload_type_refused"


@pytest.mark.parametrize("name", ["a.exe", "a.dll", "a.bat"])
def test_executable_extensions_are_refused(name):
    assert refused(name, EXE).code == "upload_type_refused"


@pytest.mark.parametrize("name,data", [("logo.svg", SVG), ("page.html", HTML),
                                       ("page.htm", HTML)], ids=_id)
def test_svg_and_html_are_refused(name, data):
    assert refused(name, data).code == "upload_type_refused"


@pytest.mark.parametrize("name,data", [("logo.txt", SVG), ("page.txt", HTML),
                                       ("page.csv", b"\xef\xbb\xbf  <html><script>")], ids=_id)
def test_markup_renamed_as_text_is_refused(name, data):
    assert refused(name, data).code == "upload_type_refused"


def test_png_renamed_pdf_is_refused():
    error = refused("scan.pdf", png_bytes())
    assert error.code == "upload_extension_mismatch"
    assert ".pdf" in str(error.message)


def test_pdf_renamed_png_is_refused():
    assert refused("scan.png", pdf_bytes()).code == "upload_extension_mismatch"


def test_archives_and_macro_documents_are_refused():
    assert refused("a.zip", plain_zip_bytes()).code == "upload_type_refused"
    assert refused("a.docx", plain_zip_bytes()).code == "upload_type_refused"
    macro = docx_bytes("application/vnd.ms-word.document.macroEnabled.main+xml")
    assert refused("a.docx", macro).code == "upload_type_refused"
    assert refused("a.docx", docx_bytes(extra={"word/vbaProject.bin": b"x"})).code == (
        "upload_type_refused"
    )


def test_binary_named_text_is_refused():
    assert refused("a.txt", b"abc\x00def").code == "upload_type_refused"
    assert refused("a.csv", b"\xff\xfe\xff\xfe\x81").code == "upload_type_refused"


def test_size_limit_from_settings(settings):
    settings.UPLOAD_MAX_BYTES = 100
    assert refused("a.png", png_bytes() + b"\x00" * 100).code == "upload_too_large"
    settings.UPLOAD_MAX_BYTES = 10_000
    assert upload_check(upload("a.png", png_bytes())).kind == "png"


@pytest.mark.parametrize("name,data,content_type", [
    ("通知.pdf", pdf_bytes(), "application/pdf"),
    ("图.PNG", png_bytes(), "image/png"),
    ("方案.docx", docx_bytes(),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("说明.txt", "今天召开会议。\n".encode("gb18030"), "text/plain; charset=utf-8"),
    ("名单.csv", "姓名,电话\n张三,1\n".encode(), "text/csv; charset=utf-8"),
], ids=_id)
def test_real_files_are_accepted_with_their_sniffed_type(name, data, content_type):
    f = upload(name, data, content_type="application/x-anything")
    checked = upload_check(f)
    assert checked.content_type == content_type
    assert checked.size == len(data)
    assert f.tell() == 0  # left for the caller to store


def test_refusal_message_is_chinese(settings):
    from django.utils import translation

    with translation.override("zh-hans"):
        error = refused("a.exe", EXE)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(error.message))
