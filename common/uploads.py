"""Uploaded attachments: one allow-list, checked by content (issue 8, item 12).

SECURITY: a file's name and the browser's content type are the uploader's word; what
a file is comes from its bytes. `upload_check()` sniffs the content (filetype's magic
numbers; for Office files, the zip's `[Content_Types].xml`; for text, a strict
decode) and refuses, with a ValidationFailed on the upload's field naming the rule:

- anything not on the allow-list: executables, HTML and SVG (they run script when a
  browser opens them), archives other than the three OOXML formats, macro-enabled
  Office files;
- a name whose extension does not agree with the content (a PNG named .pdf), so what
  a reviewer's program opens is what was checked;
- a file over the size limit (`UPLOAD_MAX_BYTES`, or the caller's own limit).

The returned `content_type` comes from the sniff and is what the file is later served
as (always as a download, with `X-Content-Type-Options: nosniff`).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.utils.translation import gettext as _

from common.errors import ValidationFailed

# filetype reads at most this much of the head (its own limit).
HEAD_BYTES = 8192
# [Content_Types].xml of a real document is a few KB; more is not an Office file.
MAX_CONTENT_TYPES_PART = 256 * 1024

# Sniffed kind -> content type served. OOXML main parts are what tell the three apart.
CONTENT_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "text": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}
# File name extension -> the sniffed kind it must have.
EXTENSIONS = {
    "jpg": "jpeg",
    "jpeg": "jpeg",
    "png": "png",
    "gif": "gif",
    "webp": "webp",
    "pdf": "pdf",
    "docx": "docx",
    "xlsx": "xlsx",
    "pptx": "pptx",
    "txt": "text",
    "csv": "text",
}
# filetype's extension -> our kind (only the allowed ones; the rest are refused).
_MAGIC_KINDS = {"jpg": "jpeg", "png": "png", "gif": "gif", "webp": "webp", "pdf": "pdf"}
# The main part each OOXML kind must declare in [Content_Types].xml (the exact
# types: macro-enabled files, .docm and friends, declare other ones).
_OOXML_MAIN = {
    "docx": (
        "word/document.xml",
        b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    ),
    "xlsx": (
        "xl/workbook.xml",
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    ),
    "pptx": (
        "ppt/presentation.xml",
        b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    ),
}
# Text that opens like markup is HTML/SVG/XML under another name: refused.
_MARKUP_STARTS = (b"<!doctype", b"<html", b"<svg", b"<?xml", b"<script", b"<body", b"<head")


class UploadRefused(ValidationFailed):
    code = "upload_refused"


@dataclass(frozen=True)
class CheckedUpload:
    name: str
    kind: str
    content_type: str
    size: int


def max_upload_bytes() -> int:
    return int(getattr(settings, "UPLOAD_MAX_BYTES", 20 * 1024 * 1024))


def allowed_extensions() -> str:
    return ", ".join(sorted(EXTENSIONS))


def _refuse(message, rule, *, field: str, code: str = "upload_refused"):
    raise UploadRefused(message, code=code, fields={field: [rule]})


def upload_check(upload, *, field: str = "file", max_bytes: int | None = None):
    """Check an uploaded file against the allow-list; return what it is.

    Reads the file (at most its size, already bounded) and leaves it at offset 0 for
    the caller to store. Raises UploadRefused (a ValidationFailed) on `field`."""
    limit = max_bytes if max_bytes is not None else max_upload_bytes()
    name = (upload.name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    size = upload.size or 0
    if size > limit:
        _refuse(
            _("The file is too large: %(size)s MB, at most %(max)s MB.")
            % {"size": round(size / 1048576, 1), "max": round(limit / 1048576, 1)},
            _("The file is too large."),
            field=field,
            code="upload_too_large",
        )
    if size == 0:
        _refuse(_("The file is empty."), _("The file is empty."), field=field,
                code="upload_empty")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    expected = EXTENSIONS.get(extension)
    if expected is None:
        _refuse(
            _("This type of file cannot be attached. Allowed: %(types)s.")
            % {"types": allowed_extensions()},
            _("The file name must end in an allowed extension."),
            field=field,
            code="upload_type_refused",
        )
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    kind = _sniff(upload, head)
    upload.seek(0)
    if kind is None:
        _refuse(
            _("The content of this file is not an allowed type. Allowed: %(types)s.")
            % {"types": allowed_extensions()},
            _("The content is not an allowed type."),
            field=field,
            code="upload_type_refused",
        )
    if kind != expected:
        _refuse(
            _("The file name says .%(ext)s but the content is not: rename it or "
              "attach the original file.") % {"ext": extension},
            _("The extension does not match the content."),
            field=field,
            code="upload_extension_mismatch",
        )
    content_type = CONTENT_TYPES["csv" if extension == "csv" else kind]
    return CheckedUpload(name=name[:200], kind=kind, content_type=content_type, size=size)


def _sniff(upload, head: bytes) -> str | None:
    """The allowed kind the bytes are, or None (refused)."""
    if head.startswith(b"PK\x03\x04"):
        return _ooxml_kind(upload)
    guess = filetype.guess(head)
    if guess is not None:
        return _MAGIC_KINDS.get(guess.extension)
    return "text" if _is_plain_text(upload) else None


def _ooxml_kind(upload) -> str | None:
    """docx/xlsx/pptx when the zip declares exactly one of their main parts and holds
    it; any other zip (an archive, a .docm, a jar) is None."""
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > MAX_CONTENT_TYPES_PART:
                return None
            declared = archive.read(info)
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError):
        return None
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        return None  # macros: Office refuses them in these formats, so do we
    found = [
        kind for kind, (part, main_type) in _OOXML_MAIN.items()
        if part in names and main_type in declared
    ]
    return found[0] if len(found) == 1 else None


def _is_plain_text(upload) -> bool:
    """SECURITY: text has no magic number; accept it only when it decodes strictly as
    UTF-8 or GB18030, holds no NUL and does not open like HTML/SVG/XML."""
    data = upload.read()
    if b"\x00" in data:
        return False
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith(_MARKUP_STARTS):
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return True
    return False
