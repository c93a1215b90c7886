"""Long exports of the annual assessment as export jobs (the platform's one mechanism,
exportjobs: progress, expiring download, audit). The annual workbook and the PDF
reports are not single tables, so their file is written here by our own writer; the
job row, its progress, the download and the expiry are exportjobs'."""

from __future__ import annotations

from django.utils.translation import gettext as _

from common.errors import Conflict


def export_request(*, freeze, kind: str, organization, actor):
    raise Conflict(
        _("Exports are not available on this installation yet."),
        code="exports_unavailable",
    )
