"""The auditor's files of a frozen year: the XLSX workbook and a PDF per organization.

Both read only the frozen snapshot (copied labels, stored scores and evidence), so the
same freeze always gives the same content. The XLSX is written in XlsxWriter's
constant-memory mode with the workbook's creation time set to the freeze time (and
XlsxWriter's fixed zip timestamps): the same snapshot gives the same bytes.

The PDF embeds a subset of a CJK font (fpdf2 subsets OpenType/TrueType fonts,
including CFF-based collections such as Debian's Noto Sans CJK), so the report reads
on a machine without Chinese fonts.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import xlsxwriter
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Level, Organization
from assessment.models import (
    AccountScore,
    AssessmentFreeze,
    OrgScore,
    Part,
    ScoreEvidence,
    ScoreLine,
)

LEVEL_ORDER = [Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP]
FORMULA_START = ("=", "+", "-", "@")


def _cell(value):
    """Text that a spreadsheet would read as a formula is prefixed (formula-safe)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _local(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _result(vetoed: bool, passed: bool) -> str:
    if vetoed:
        return _("Failed (veto)")
    return _("Passed") if passed else _("Failed")


def write_annual_xlsx(
    freeze: AssessmentFreeze,
    path: str | Path,
    progress: Callable[[int], None] | None = None,
) -> None:
    """The annual workbook: summary, one sheet per level (one row per account, a column
    per rubric item), the evidence list, and the government-website / open-government
    figures. Streams the rows (constant memory)."""
    run = freeze.run
    items = [i for i in run.items]
    codes = [i["code"] for i in items]
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
        },
    )
    frozen_at = timezone.localtime(freeze.frozen_at).replace(tzinfo=None)
    wb.set_properties(
        {
            "title": f"{freeze.organization.name} {freeze.year}",
            "created": frozen_at,
            "author": "GovMedia",
        }
    )
    bold = wb.add_format({"bold": True})

    summary = wb.add_worksheet(_("Summary")[:31])
    rows = [
        (_("Organization"), freeze.organization.name),
        (_("Year"), freeze.year),
        (_("Version"), freeze.version),
        (_("Rubric"), str(run.rubric)),
        (_("Period"), f"{run.period_start:%Y-%m-%d} – {run.period_end:%Y-%m-%d}"),
        (_("Frozen at"), _local(freeze.frozen_at)),
        (_("Frozen by"), str(freeze.frozen_by)),
        (_("Checksum (SHA-256)"), freeze.checksum),
        (_("Accounts"), freeze.figures.get("accounts", 0)),
        (_("Passed"), freeze.figures.get("passed", 0)),
        (_("Vetoed"), freeze.figures.get("vetoed", 0)),
        (_("Pass rate (%)"), freeze.figures.get("pass_rate", "")),
        (_("Average score"), freeze.figures.get("average", "")),
        (
            _("Counts likes, forwards or logins"),
            _("Yes (explicit opt-in)") if run.engagement_opt_in else _("No"),
        ),
        (
            _("Not checked (data not available yet)"),
            "、".join(i["name"] for i in items if i["code"] in run.unavailable_sources),
        ),
    ]
    for n, (label, value) in enumerate(rows):
        summary.write(n, 0, label, bold)
        summary.write(n, 1, _cell(value))
    summary.set_column(0, 0, 28)
    summary.set_column(1, 1, 70)

    header = [
        _("Rank in level"),
        _("Media account"),
        _("Platform"),
        _("Organization"),
        _("Result"),
        _("Deductions"),
        _("Score before bonus"),
        _("Bonus"),
        _("Score"),
        *[i["name"] for i in items],
    ]
    item_column = {code: n for n, code in enumerate(codes, start=9)}
    result_labels = {
        (vetoed, passed): _result(vetoed, passed)
        for vetoed in (False, True)
        for passed in (False, True)
    }
    scores = AccountScore.objects.filter(run=run)
    total = max(1, freeze.figures.get("accounts", 0))
    done = 0
    for level in LEVEL_ORDER:
        sheet = wb.add_worksheet(str(Level(level).label)[:31])
        sheet.write_row(0, 0, header, bold)
        sheet.freeze_panes(1, 0)
        level_scores = (
            scores.filter(level=level)
            .order_by("rank_in_level", "id")
            .values_list(
                "id",
                "rank_in_level",
                "account_label",
                "platform_label",
                "organization_label",
                "vetoed",
                "passed",
                "deductions",
                "base",
                "bonus",
                "total",
            )
        )
        lines = (
            ScoreLine.objects.filter(run=run, score__level=level)
            .order_by("score__rank_in_level", "score_id")
            .values_list("score_id", "item_code", "applied", "part")
            .iterator(chunk_size=5000)
        )
        pending = next(lines, None)
        write, write_number = sheet.write, sheet.write_number
        r = 0
        for (
            sid,
            rank,
            acc,
            platform,
            org,
            vetoed,
            passed,
            ded,
            base,
            bonus,
            total_score,
        ) in level_scores.iterator(chunk_size=5000):
            per_item: dict[str, object] = {}
            while pending is not None and pending[0] == sid:
                _sid, code, applied, part = pending
                per_item[code] = _("Veto") if part == Part.VETO else float(applied)
                pending = next(lines, None)
            r += 1
            # Cell by cell, not write_row(): the same cells (write_row calls write()
            # per value; numbers go straight to write_number, text keeps write()'s
            # dispatch), and the items that did not occur are not visited at all:
            # XlsxWriter writes nothing for an empty cell without a format. A third
            # less time per row, most of the workbook's time at 200,000 accounts.
            write_number(r, 0, rank)
            write(r, 1, _cell(acc))
            write(r, 2, _cell(platform))
            write(r, 3, _cell(org))
            write(r, 4, result_labels[vetoed, passed])
            write_number(r, 5, float(ded))
            write_number(r, 6, float(base))
            write_number(r, 7, float(bonus))
            write_number(r, 8, float(total_score))
            for code, value in per_item.items():
                column = item_column.get(code)
                if column is not None:
                    write(r, column, value)
            done += 1
            if progress and done % 5000 == 0:
                progress(int(90 * done / total))

    evidence = wb.add_worksheet(_("Evidence")[:31])
    evidence.write_row(
        0,
        0,
        [
            _("Media account"),
            _("Organization"),
            _("Item"),
            _("Kind"),
            _("Row"),
            _("Evidence"),
            _("Time"),
            _("Link"),
        ],
        bold,
    )
    rows_ev = (
        ScoreEvidence.objects.filter(run=run)
        .order_by("line__score__level", "line__score__rank_in_level", "line_id", "id")
        .values_list(
            "line__score__account_label",
            "line__score__organization_label",
            "line__item_name",
            "kind",
            "object_id",
            "label",
            "occurred_at",
            "url",
        )
    )
    for n, (acc, org, item, kind, oid, label, at, url) in enumerate(
        rows_ev.iterator(chunk_size=5000), start=1
    ):
        evidence.write_row(
            n,
            0,
            [
                _cell(acc),
                _cell(org),
                _cell(item),
                kind,
                oid,
                _cell(label),
                _local(at),
                _cell(url),
            ],
        )

    figures = wb.add_worksheet(_("Government website figures")[:31])
    fig = freeze.figures
    figures.write_row(0, 0, [_("Figure"), _("Value")], bold)
    r = 1
    for key, label in (
        ("accounts", _("Accounts")),
        ("passed", _("Passed")),
        ("vetoed", _("Vetoed")),
        ("pass_rate", _("Pass rate (%)")),
        ("average", _("Average score")),
    ):
        figures.write_row(r, 0, [label, fig.get(key, "")])
        r += 1
    for title, key, first in (
        (_("By level"), "by_level", "level"),
        (_("By platform"), "by_platform", "platform_label"),
    ):
        r += 1
        figures.write(r, 0, title, bold)
        r += 1
        figures.write_row(
            r,
            0,
            [
                _("Group"),
                _("Accounts"),
                _("Passed"),
                _("Vetoed"),
                _("Pass rate (%)"),
                _("Average score"),
            ],
            bold,
        )
        for row in fig.get(key, []):
            r += 1
            name = row.get(first, "")
            if first == "level" and name in Level.values:
                name = str(Level(name).label)
            figures.write_row(
                r,
                0,
                [
                    _cell(name),
                    row["accounts"],
                    row["passed"],
                    row["vetoed"],
                    row["pass_rate"],
                    row["average"],
                ],
            )
    r += 2
    figures.write(r, 0, _("Accounts under each heading"), bold)
    for row in fig.get("headings", []):
        r += 1
        figures.write_row(r, 0, [_cell(row["name"]), row["accounts"]])
    figures.set_column(0, 0, 40)
    wb.close()
    if progress:
        progress(100)


# --- PDF -----------------------------------------------------------------------------------------
FONT_CANDIDATES = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # Noto Sans CJK SC
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
]


def cjk_font() -> tuple[str, int]:
    """The CJK font to embed: ASSESSMENT_PDF_FONT (path[,collection index]) or the first
    Debian font found (fonts-noto-cjk, which .ci/run installs)."""
    configured = getattr(settings, "ASSESSMENT_PDF_FONT", "") or os.environ.get(
        "ASSESSMENT_PDF_FONT", ""
    )
    if configured:
        path, _sep, index = configured.partition(",")
        return path, int(index or 0)
    for path, index in FONT_CANDIDATES:
        if os.path.exists(path):
            return path, index
    raise RuntimeError(
        "No CJK font found: install fonts-noto-cjk or set ASSESSMENT_PDF_FONT"
    )


def _pdf_class():
    from fpdf import FPDF

    class PDF(FPDF):
        def multi_cell(self, *args, **kwargs):
            # Each paragraph starts again at the left margin (fpdf2's default leaves
            # the cursor at the right of the block).
            kwargs.setdefault("new_x", "LMARGIN")
            kwargs.setdefault("new_y", "NEXT")
            return super().multi_cell(*args, **kwargs)

    return PDF


def _headings():
    from fpdf.fonts import FontFace

    return FontFace(emphasis="", fill_color=(225, 232, 242))


def write_org_pdf(
    freeze: AssessmentFreeze, organization: Organization, path: str | Path
) -> None:
    """The report of one organization (and its subtree) in a frozen year: figures, a bar
    chart of average scores per level, the organizations ranked, the accounts that
    failed. Per-account detail is in the XLSX, not here."""
    _PDF = _pdf_class()  # noqa: N806
    HEADINGS = _headings()  # noqa: N806
    run = freeze.run
    font, index = cjk_font()
    pdf = _PDF(orientation="P", unit="mm", format="A4")
    pdf.set_creation_date(freeze.frozen_at)
    pdf.set_title(f"{organization.name} {freeze.year}")
    # One face only: loading and subsetting a CJK face (65,000 glyphs) is most of the
    # report's time, and a bold face doubled it for the tables' header rows alone.
    # The header rows are shaded instead (HEADINGS).
    pdf.add_font("cjk", "", font, collection_font_number=index)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.multi_cell(
        0,
        9,
        _("%(org)s %(year)s annual assessment of government new media")
        % {"org": organization.name, "year": freeze.year},
        align="C",
    )
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(
        0,
        5,
        _("Frozen %(at)s, version %(v)s, checksum %(sum)s")
        % {"at": _local(freeze.frozen_at), "v": freeze.version, "sum": freeze.checksum},
    )
    if run.engagement_opt_in:
        pdf.multi_cell(
            0,
            5,
            _(
                "This rubric counts likes, forwards or logins by the "
                "tenant's explicit opt-in (national rules since 2024 forbid "
                "it otherwise)."
            ),
        )
    unavailable = [i["name"] for i in run.items if i["code"] in run.unavailable_sources]
    if unavailable:
        pdf.multi_cell(
            0,
            5,
            _("Not checked (data not available yet):") + " " + "、".join(unavailable),
        )
    pdf.ln(2)

    scores = AccountScore.objects.filter(
        run=run, org_path__startswith=organization.path
    )
    from django.db.models import Avg, Count, Q

    agg = scores.aggregate(
        n=Count("id"),
        ok=Count("id", filter=Q(passed=True)),
        veto=Count("id", filter=Q(vetoed=True)),
        avg=Avg("total"),
    )
    pdf.set_font("cjk", size=11)
    n = agg["n"] or 0
    rate = f"{100 * (agg['ok'] or 0) / n:.1f}" if n else "0.0"
    pdf.multi_cell(
        0,
        7,
        _(
            "Accounts: %(n)s; passed: %(ok)s (%(rate)s%%); failed by veto: "
            "%(veto)s; average score: %(avg)s"
        )
        % {
            "n": n,
            "ok": agg["ok"] or 0,
            "rate": rate,
            "veto": agg["veto"] or 0,
            "avg": f"{agg['avg'] or 0:.2f}",
        },
    )

    # Bar chart: average score per level (drawn, so no image library is needed).
    per_level = {
        row["level"]: row
        for row in scores.values("level")
        .annotate(n=Count("id"), avg=Avg("total"))
        .order_by("level")
    }
    pdf.ln(2)
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 7, _("Average score per level"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    x0, width = pdf.l_margin + 25, 120
    for level in LEVEL_ORDER:
        row = per_level.get(level)
        if not row:
            continue
        y = pdf.get_y()
        pdf.set_xy(pdf.l_margin, y)
        pdf.cell(25, 6, str(Level(level).label))
        avg = float(row["avg"] or 0)
        pdf.set_fill_color(70, 110, 170)
        pdf.rect(x0, y + 1, width * min(avg, 120) / 120, 4, style="F")
        pdf.set_xy(x0 + width + 3, y)
        pdf.cell(40, 6, f"{avg:.2f} ({row['n']})", new_x="LMARGIN", new_y="NEXT")

    pdf.ln(3)
    pdf.set_font("cjk", size=11)
    pdf.cell(
        0,
        7,
        _("Organizations ranked within their level"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("cjk", size=8.5)
    orgs = OrgScore.objects.filter(
        run=run, org_path__startswith=organization.path
    ).order_by("level", "rank_in_level")[:300]
    with pdf.table(
        col_widths=(18, 12, 90, 18, 18, 18, 22),
        text_align="LEFT",
        line_height=5,
        headings_style=HEADINGS,
    ) as table:
        table.row(
            [
                _("Level"),
                _("Rank"),
                _("Organization"),
                _("Accounts"),
                _("Passed"),
                _("Vetoed"),
                _("Average score"),
            ]
        )
        for o in orgs:
            table.row(
                [
                    str(Level(o.level).label),
                    str(o.rank_in_level),
                    o.organization_label,
                    str(o.accounts),
                    str(o.passed),
                    str(o.vetoed),
                    str(o.average),
                ]
            )

    failed = scores.filter(passed=False).order_by("level", "rank_in_level")[:200]
    pdf.ln(3)
    pdf.set_font("cjk", size=11)
    pdf.cell(
        0,
        7,
        _("Accounts that failed (at most 200; all accounts are in the XLSX)"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("cjk", size=8.5)
    with pdf.table(
        col_widths=(60, 22, 70, 20, 24),
        text_align="LEFT",
        line_height=5,
        headings_style=HEADINGS,
    ) as table:
        table.row(
            [
                _("Media account"),
                _("Platform"),
                _("Organization"),
                _("Score"),
                _("Result"),
            ]
        )
        for s in failed:
            table.row(
                [
                    s.account_label,
                    s.platform_label,
                    s.organization_label,
                    str(s.total),
                    _result(s.vetoed, s.passed),
                ]
            )
    pdf.output(str(path))


# --- circulars ------------------------------------------------------------------------------------
def write_circular_xlsx(circular, parts, target) -> None:
    """A circular's workbook: figures per organization with a chart of the averages, the
    accounts under each heading, the accounts commended. `parts` are those the reader
    may see (a subordinate organization gets its own part only)."""
    wb = xlsxwriter.Workbook(
        target,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False},
    )
    wb.set_properties(
        {
            "title": circular.title,
            "created": timezone.localtime(
                circular.published_at or circular.created_at
            ).replace(tzinfo=None),
        }
    )
    bold = wb.add_format({"bold": True})
    figures = wb.add_worksheet(_("Figures")[:31])
    figures.write(0, 0, _cell(circular.title), bold)
    figures.write_row(
        2,
        0,
        [
            _("Organization"),
            _("Level"),
            _("Accounts"),
            _("Passed"),
            _("Vetoed"),
            _("Average score"),
            _("Rank in level"),
        ],
        bold,
    )
    for r, part in enumerate(parts, start=3):
        f = part.figures
        figures.write_row(
            r,
            0,
            [
                _cell(part.organization_label),
                str(Level(part.level).label),
                f["accounts"],
                f["passed"],
                f["vetoed"],
                float(f["average"]),
                f["rank_in_level"],
            ],
        )
    if parts:
        chart = wb.add_chart({"type": "bar"})
        last = 2 + len(parts)
        chart.add_series(
            {
                "name": _("Average score"),
                "categories": [figures.name, 3, 0, last, 0],
                "values": [figures.name, 3, 5, last, 5],
            }
        )
        chart.set_title({"name": _("Average score per organization")})
        chart.set_legend({"none": True})
        chart.set_size({"width": 640, "height": max(240, 22 * len(parts))})
        figures.insert_chart(2, 8, chart)
    figures.set_column(0, 0, 32)
    heads = wb.add_worksheet(_("Headings")[:31])
    heads.write_row(
        0,
        0,
        [
            _("Organization"),
            _("Item"),
            _("Part"),
            _("Media account"),
            _("Platform"),
            _("Occurrences"),
            _("Points applied"),
        ],
        bold,
    )
    r = 0
    for part in parts:
        for h in part.headings:
            for a in h["accounts"]:
                r += 1
                heads.write_row(
                    r,
                    0,
                    [
                        _cell(part.organization_label),
                        _cell(h["name"]),
                        str(Part(h["part"]).label),
                        _cell(a["account"]),
                        _cell(a["platform"]),
                        a["occurrences"],
                        float(a["points"]),
                    ],
                )
    good = wb.add_worksheet(_("Commended")[:31])
    good.write_row(
        0,
        0,
        [
            _("Organization"),
            _("Item"),
            _("Media account"),
            _("Platform"),
            _("Points applied"),
        ],
        bold,
    )
    r = 0
    for part in parts:
        for a in part.commended:
            r += 1
            good.write_row(
                r,
                0,
                [
                    _cell(part.organization_label),
                    _cell(a["item"]),
                    _cell(a["account"]),
                    _cell(a["platform"]),
                    float(a["points"]),
                ],
            )
    wb.close()


def write_circular_pdf(circular, parts, path) -> None:
    """The circular as a PDF with a bar chart of the averages (drawn)."""
    pdf_class = _pdf_class()
    font, index = cjk_font()
    pdf = pdf_class(orientation="P", unit="mm", format="A4")
    pdf.set_creation_date(circular.published_at or circular.created_at)
    pdf.set_title(circular.title)
    pdf.add_font("cjk", "", font, collection_font_number=index)
    bold = font.replace("-Regular.", "-Bold.")
    pdf.add_font(
        "cjk", "B", bold if os.path.exists(bold) else font, collection_font_number=index
    )
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("cjk", size=15)
    pdf.multi_cell(0, 8, circular.title, align="C")
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(
        0,
        5,
        f"{circular.get_status_display()} · "
        + _local(circular.published_at or circular.created_at),
    )
    summary = circular.summary or {}
    if summary.get("engagement_opt_in"):
        pdf.multi_cell(
            0,
            5,
            _(
                "This rubric counts likes, forwards or logins by the "
                "tenant's explicit opt-in (national rules since 2024 forbid "
                "it otherwise)."
            ),
        )
    if summary.get("unavailable"):
        pdf.multi_cell(
            0,
            5,
            _("Not checked (data not available yet):")
            + " "
            + "、".join(summary["unavailable"]),
        )
    pdf.ln(2)
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 7, _("Average score per organization"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=8)
    for part in parts[:40]:
        y = pdf.get_y()
        pdf.set_xy(pdf.l_margin, y)
        pdf.cell(55, 5, part.organization_label[:22])
        avg = float(part.figures["average"])
        pdf.set_fill_color(70, 110, 170)
        pdf.rect(pdf.l_margin + 56, y + 1, 90 * min(avg, 120) / 120, 3, style="F")
        pdf.set_xy(pdf.l_margin + 150, y)
        pdf.cell(30, 5, f"{avg:.2f}", new_x="LMARGIN", new_y="NEXT")
    for part in parts:
        pdf.ln(3)
        pdf.set_font("cjk", size=11)
        f = part.figures
        pdf.multi_cell(
            0,
            6,
            _(
                "%(org)s: %(n)s accounts, %(ok)s passed, %(veto)s failed by "
                "veto, average %(avg)s"
            )
            % {
                "org": part.organization_label,
                "n": f["accounts"],
                "ok": f["passed"],
                "veto": f["vetoed"],
                "avg": f["average"],
            },
        )
        pdf.set_font("cjk", size=9)
        for h in part.headings:
            names = "、".join(a["account"] for a in h["accounts"][:30])
            pdf.multi_cell(0, 5, f"{h['name']}：{names}")
        if part.commended:
            pdf.multi_cell(
                0,
                5,
                _("Commended:")
                + " "
                + "、".join(a["account"] for a in part.commended[:30]),
            )
        if not part.rectification.get("available"):
            pdf.multi_cell(
                0,
                5,
                _(
                    "Rectification status: not available yet (the "
                    "supervision data is not on this installation)."
                ),
            )
    pdf.output(str(path))
