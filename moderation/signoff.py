"""The sign-off sheet (审签单) as a PDF. reportlab's built-in CID font STSong-Light
renders Chinese without shipping a font file; every string drawn goes through
moderation.pdf_glyphs.pdf_text, so characters its encoding lacks (the middle dot of
names like 演示·运维人员) never draw as empty boxes."""

from __future__ import annotations

import io
from html import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from moderation.models import Post, ReviewStep, SignOffSheet
from moderation.pdf_glyphs import pdf_text_checked

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def signoff_rows(sheet: SignOffSheet) -> list[ReviewStep]:
    return list(
        ReviewStep.objects.filter(post_id=sheet.post_id, revision=sheet.revision,
                                  status="approved")
        .select_related("decided_by")
        .order_by("order")
    )


def signoff_pdf(sheet: SignOffSheet) -> bytes:
    post: Post = sheet.post
    escaped = False

    def para(value, style) -> Paragraph:
        """A paragraph of plain text, drawable in the CID font."""
        nonlocal escaped
        text, lost = pdf_text_checked(str(value))
        escaped = escaped or lost
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    revision = sheet.revision
    title_style = ParagraphStyle("t", fontName=FONT, fontSize=18, leading=24, alignment=1)
    body = ParagraphStyle("b", fontName=FONT, fontSize=10.5, leading=16)
    small = ParagraphStyle("s", fontName=FONT, fontSize=9, leading=13)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=16 * mm, bottomMargin=16 * mm,
                            title=f"{_('Sign-off sheet')} {sheet.number}")
    accounts = pgettext("list separator", ", ").join(
        _("%(name)s (%(platform)s)") % {"name": a.display_name, "platform": a.platform.name}
        for a in post.target_accounts.select_related("platform")
    )
    head = [
        [_("Number"), sheet.number, _("Organization"), post.organization.name],
        [_("Title"), post.title or "—", _("Importance"), post.get_importance_display()],
        [_("Author"), str(post.author), _("Revision"), str(revision.number)],
        [_("Target accounts"), accounts, _("Scheduled"), _local(revision.scheduled_at) or "—"],
    ]
    head = [[para(c, body) for c in row] for row in head]
    grid = TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ])
    head_table = Table(head, colWidths=[26 * mm, 60 * mm, 26 * mm, 62 * mm])
    head_table.setStyle(grid)
    story = [para(_("Sign-off sheet for publication"), title_style), Spacer(1, 6 * mm),
             head_table, Spacer(1, 4 * mm),
             para(_("Text"), body), para(revision.text, small), Spacer(1, 4 * mm)]
    if revision.overrides:
        story.append(para(_("Pre-check overrides"), body))
        for o in revision.overrides_shown:
            line = f"{o['term']} ({o['kind_label']}): {o['reason']} — {o['by_label']}"
            story.append(para(line, small))
        story.append(Spacer(1, 4 * mm))
    steps = [[_("Step"), _("Reviewer"), _("Decision"), _("Time"), _("Comment")]]
    for i, step in enumerate(signoff_rows(sheet), start=1):
        steps.append([f"{i}. {step.get_role_display()}", str(step.decided_by),
                      step.get_status_display(), _local(step.decided_at), step.comment])
    steps = [[para(c, body) for c in row] for row in steps]
    steps_table = Table(steps, colWidths=[34 * mm, 46 * mm, 18 * mm, 32 * mm, 44 * mm])
    steps_style = TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ])
    steps_table.setStyle(steps_style)
    story += [para(_("Review steps"), body), steps_table, Spacer(1, 4 * mm),
              para(_("Issued at %(time)s") % {"time": _local(sheet.issued_at)}, small)]
    if escaped:
        story.append(para(_("Characters the PDF font cannot show are written as their "
                            "Unicode code point, e.g. [U+1F600]."), small))
    doc.build(story)
    return buffer.getvalue()
