"""The sign-off sheet (审签单) as a PDF.

Drawn with fpdf2 in a CJK font embedded as a subset (only the glyphs used), so any
viewer shows the Chinese without a font pack, and the text extracts as Chinese. The
font is a TrueType/OpenType file or collection: ``settings.SIGNOFF_FONT`` when set,
else the first present of Debian's fonts-noto-cjk (Noto Sans CJK SC),
fonts-wqy-microhei and fonts-droid-fallback (README: system packages).

Every string drawn goes through `drawable`: a character the font lacks (an emoji,
say) is written as its code point ("[U+1F600]"), never drawn as an empty box.

The sheet carries a verification code (`verification_code`): an HMAC of the sheet's
number, post and revision under the platform's secret key, so the public page
/verify/ can tell a real sheet from a forged one without a login.
"""

from __future__ import annotations

import base64
import functools
import hmac
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from moderation.models import Post, ReviewRole, ReviewStep, SignOffSheet

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
FAMILY = "cjk"


@functools.cache
def font() -> tuple[str, int, frozenset[int]]:
    """(path, index in a collection, the code points the font draws), found once."""
    from fontTools.ttLib import TTCollection, TTFont

    configured = getattr(settings, "SIGNOFF_FONT", "")
    paths = [configured] if configured else [p for p in FONT_CANDIDATES if Path(p).exists()]
    if not paths or not Path(paths[0]).exists():
        raise ImproperlyConfigured(
            "No CJK font for the sign-off sheet: install fonts-noto-cjk (Debian) or set "
            "SIGNOFF_FONT to a TrueType/OpenType font file."
        )
    path = paths[0]
    if path.lower().endswith((".ttc", ".otc")):
        fonts = TTCollection(path).fonts
        # Prefer the simplified-Chinese member of a CJK collection.
        index = next(
            (i for i, f in enumerate(fonts)
             if " SC" in (f["name"].getDebugName(1) or "")), 0
        )
        cmap = fonts[index].getBestCmap()
    else:
        index, cmap = 0, TTFont(path, lazy=True).getBestCmap()
    return path, index, frozenset(cmap)


def drawable(text: str) -> tuple[str, bool]:
    """The text with every character the font lacks written as its code point; and
    whether any was."""
    covered = font()[2]
    out, lost = [], False
    for ch in str(text):
        if ch in "\n\t" or ord(ch) in covered:
            out.append(ch)
        elif ch in "\u200b\u200c\u200d\ufe0e\ufe0f":
            continue  # zero-width joiners and variation selectors carry no glyph
        else:
            out.append(f"[U+{ord(ch):04X}]")
            lost = True
    return "".join(out), lost


def verification_code(sheet: SignOffSheet) -> str:
    """Ten characters (two groups of five) only the platform can compute."""
    digest = salted_hmac(
        "moderation.signoff", f"{sheet.number}:{sheet.post_id}:{sheet.revision_id}",
    ).digest()
    code = base64.b32encode(digest).decode()[:10]
    return f"{code[:5]}-{code[5:]}"


def verify(number: str, code: str) -> bool:
    """True when a sheet with this number exists and the code is its code. A missing
    number and a wrong code answer the same (nothing to enumerate)."""
    sheet = SignOffSheet.objects.filter(number=(number or "").strip()[:40]).first()
    given = (code or "").strip().upper().replace(" ", "")
    if len(given) == 10:
        given = f"{given[:5]}-{given[5:]}"
    expected = verification_code(sheet) if sheet else "00000-00000"
    return hmac.compare_digest(expected, given) and sheet is not None


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def signoff_rows(sheet: SignOffSheet) -> list[ReviewStep]:
    return list(
        ReviewStep.objects.filter(post_id=sheet.post_id, revision=sheet.revision,
                                  status="approved")
        .select_related("decided_by", "on_behalf_of")
        .order_by("order")
    )


def _decider(step: ReviewStep) -> str:
    """Who decided the step; a deputy's decision names whom they acted for (代签)."""
    if step.on_behalf_of_id:
        return _("%(deputy)s (on behalf of %(holder)s)") % {
            "deputy": step.decided_by, "holder": step.on_behalf_of}
    return str(step.decided_by or "")


def _signers(post: Post, steps: list[ReviewStep]) -> list[tuple[str, str]]:
    """Drafter (the author), checker (the department head's step, else the first) and
    issuer (the last approval: the highest leader the importance brings in)."""
    checker = next((s for s in steps if s.role == ReviewRole.DEPARTMENT_HEAD),
                   steps[0] if steps else None)
    leaders = [s for s in steps if s.role != ReviewRole.CONFIDENTIALITY_REVIEWER]
    issuer = leaders[-1] if leaders else None
    return [
        (pgettext("signature line", "Drafted by"), str(post.author)),
        (pgettext("signature line", "Checked by"), _decider(checker) if checker else ""),
        (pgettext("signature line", "Issued by"), _decider(issuer) if issuer else ""),
    ]


def signoff_pdf(sheet: SignOffSheet, *, verify_url: str = "/verify/") -> bytes:
    """The sheet as PDF, always in Chinese: it is the official record filed with the
    post (审签单), the same whatever language the person printing it reads."""
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        return _signoff_pdf(sheet, verify_url=verify_url)


def _signoff_pdf(sheet: SignOffSheet, *, verify_url: str) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import TableBordersLayout
    from fpdf.fonts import FontFace

    post: Post = sheet.post
    revision = sheet.revision
    path, index, _covered = font()
    lost_any = False

    def t(value) -> str:
        nonlocal lost_any
        text, lost = drawable("" if value is None else value)
        lost_any = lost_any or lost
        return text

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font(FAMILY, fname=path, collection_font_number=index)
    pdf.set_title(t(f"{_('Sign-off sheet')} {sheet.number}"))
    pdf.set_creator("GovMedia")
    pdf.add_page()
    width = pdf.epw

    pdf.set_font(FAMILY, size=18)
    pdf.cell(width, 11, t(_("Sign-off sheet for publication")), align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=9)
    code = verification_code(sheet)
    pdf.cell(width, 6, t(_("No. %(number)s · verification code %(code)s")
                         % {"number": sheet.number, "code": code}),
             align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    accounts = pgettext("list separator", ", ").join(
        _("%(name)s (%(platform)s)") % {"name": a.display_name, "platform": a.platform.name}
        for a in post.target_accounts.select_related("platform")
    )
    pdf.set_font(FAMILY, size=10.5)
    head = [
        (_("Number"), sheet.number, _("Organization"), post.organization.name),
        (_("Title"), post.title or "—", _("Importance"), post.get_importance_display()),
        (_("Author"), str(post.author), _("Revision"), str(revision.number)),
        (_("Target accounts"), accounts, _("Scheduled"), _local(revision.scheduled_at) or "—"),
    ]
    with pdf.table(col_widths=(26, 61, 26, 61), first_row_as_headings=False,
                   line_height=6.5, padding=1.5, v_align="TOP") as table:
        for label_a, value_a, label_b, value_b in head:
            row = table.row()
            for text in (label_a, value_a, label_b, value_b):
                row.cell(t(text))
    pdf.ln(4)

    def heading(text):
        pdf.set_font(FAMILY, size=11.5)
        pdf.cell(width, 7, t(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, size=10)

    heading(_("Text"))
    pdf.multi_cell(width, 5.8, t(revision.text), border=1, padding=2,
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    if revision.overrides:
        heading(_("Pre-check overrides"))
        for o in revision.overrides_shown:
            line = f"{o['term']} ({o['kind_label']}): {o['reason']} — {o['by_label']}"
            pdf.multi_cell(width, 5.5, t(line), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)

    steps = signoff_rows(sheet)
    heading(_("Review steps"))
    with pdf.table(col_widths=(30, 36, 20, 36, 52), line_height=6, padding=1.5,
                   v_align="TOP", borders_layout=TableBordersLayout.ALL,
                   headings_style=FontFace(emphasis=None, fill_color=(240, 240, 240))) as table:
        row = table.row()
        for text in (_("Step"), _("Reviewer"), _("Decision"), _("Time"), _("Comment")):
            row.cell(t(text))
        for i, step in enumerate(steps, start=1):
            row = table.row()
            for text in (f"{i}. {step.get_role_display()}", _decider(step),
                         step.get_status_display(), _local(step.decided_at), step.comment):
                row.cell(t(text))
    pdf.ln(5)

    # Signatures by hand: drafter, checker, issuer, each with name, signature and
    # date lines; the seal area beside them.
    if pdf.will_page_break(48):
        pdf.add_page()
    top = pdf.get_y()
    seal = 44
    column = (width - seal - 6) / 3
    pdf.set_font(FAMILY, size=10)
    for i, (label, name) in enumerate(_signers(post, steps)):
        x = pdf.l_margin + i * column
        pdf.set_xy(x, top)
        pdf.cell(column - 3, 6, t(label))
        pdf.set_xy(x, top + 7)
        pdf.set_font(FAMILY, size=8.5)
        pdf.multi_cell(column - 3, 4.5, t(_("Name: %(name)s") % {"name": name}))
        pdf.set_font(FAMILY, size=10)
        for j, line in enumerate((_("Signature"), _("Date"))):
            y = top + 17 + j * 12
            pdf.set_xy(x, y)
            pdf.cell(column - 3, 6, t(line))
            pdf.line(x, y + 6.5, x + column - 6, y + 6.5)
    seal_x = pdf.l_margin + width - seal
    pdf.set_dash_pattern(dash=1.2, gap=1)
    pdf.rect(seal_x, top, seal, seal)
    pdf.set_dash_pattern()
    pdf.set_xy(seal_x, top + seal / 2 - 3)
    pdf.set_text_color(120)
    pdf.cell(seal, 6, t(_("Seal")), align="C")
    pdf.set_text_color(0)
    pdf.set_xy(pdf.l_margin, top + seal + 4)

    pdf.set_font(FAMILY, size=8.5)
    pdf.multi_cell(width, 4.8, t(
        _("Issued at %(time)s. Check this sheet at %(url)s with its number and "
          "verification code.") % {"time": _local(sheet.issued_at), "url": verify_url}),
        new_x="LMARGIN", new_y="NEXT")
    if lost_any:
        pdf.multi_cell(width, 4.8, t(_("Characters the PDF font cannot show are written "
                                       "as their Unicode code point, e.g. [U+1F600].")),
                       new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
