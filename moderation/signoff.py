"""The sign-off sheet (审签单) as a PDF. reportlab's built-in CID font STSong-Light
renders Chinese without shipping a font file."""

from __future__ import annotations

import io
from html import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from moderation.models import Post, ReviewStep, SignOffSheet

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
    revision = sheet.revision
    title_style = ParagraphStyle("t", fontName=FONT, fontSize=18, leading=24, alignment=1)
    body = ParagraphStyle("b", fontName=FONT, fontSize=10.5, leading=16)
    small = ParagraphStyle("s", fontName=FONT, fontSize=9, leading=13)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=16 * mm, bottomMargin=16 * mm,
                            title=f"{_('Sign-off sheet')} {sheet.number}")
    accounts = ", ".join(f"{a.display_name} ({a.platform.name})"
                         for a in post.target_accounts.select_related("platform"))
    head = [
        [_("Number"), sheet.number, _("Organization"), post.organization.name],
        [_("Title"), post.title or "—", _("Importance"), post.get_importance_display()],
        [_("Author"), str(post.author), _("Revision"), str(revision.number)],
        [_("Target accounts"), accounts, _("Scheduled"), _local(revision.scheduled_at) or "—"],
    ]
    head = [[Paragraph(escape(str(c)), body) for c in row] for row in head]
    grid = TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ])
    head_table = Table(head, colWidths=[26 * mm, 60 * mm, 26 * mm, 62 * mm])
    head_table.setStyle(grid)
    story = [Paragraph(_("Sign-off sheet for publication"), title_style), Spacer(1, 6 * mm),
             head_table, Spacer(1, 4 * mm),
             Paragraph(_("Text"), body),
             Paragraph(escape(revision.text).replace("\n", "<br/>"), small), Spacer(1, 4 * mm)]
    if revision.overrides:
        story.append(Paragraph(_("Pre-check overrides"), body))
        for o in revision.overrides:
            line = f"{o['term']} ({o['kind']}): {o['reason']} — {o['by_label']}"
            story.append(Paragraph(escape(line), small))
        story.append(Spacer(1, 4 * mm))
    steps = [[_("Step"), _("Reviewer"), _("Decision"), _("Time"), _("Comment")]]
    for i, step in enumerate(signoff_rows(sheet), start=1):
        steps.append([f"{i}. {step.get_role_display()}", str(step.decided_by),
                      step.get_status_display(), _local(step.decided_at), step.comment])
    steps = [[Paragraph(escape(str(c)), body) for c in row] for row in steps]
    steps_table = Table(steps, colWidths=[34 * mm, 46 * mm, 18 * mm, 32 * mm, 44 * mm])
    steps_style = TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ])
    steps_table.setStyle(steps_style)
    story += [Paragraph(_("Review steps"), body), steps_table, Spacer(1, 4 * mm),
              Paragraph(_("Issued at %(time)s") % {"time": _local(sheet.issued_at)}, small)]
    doc.build(story)
    return buffer.getvalue()
