"""The annual freeze: an immutable snapshot with a checksum; later data changes leave
the frozen export identical (byte for byte for the data sheets); re-opening is
audited; bad requests are clear errors."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from datetime import UTC, date, datetime

import pytest

from accounts.models import Role
from assessment.exports import write_annual_xlsx, write_org_pdf
from assessment.models import AccountScore, FreezeStatus
from assessment.services.freeze import run_checksum, year_freeze, year_reopen
from assessment.services.scoring import score_run_request
from audit.models import AuditEvent
from common.errors import ApplicationError
from tests.assessment.helpers import active_rubric, unapproved_post
from tests.moderation.factories import make_account

pytestmark = pytest.mark.django_db
YEAR = 2025


def _frozen(ns):
    active_rubric(ns, year=YEAR)
    account = make_account(ns.city_dept, "weibo")
    account.last_post_at = datetime(YEAR, 12, 30, tzinfo=UTC)
    account.opened_on = date(YEAR - 1, 3, 1)
    account.save(update_fields=["last_post_at", "opened_on"])
    unapproved_post(ns, account, when=datetime(YEAR, 6, 1, 3, tzinfo=UTC))
    idle = make_account(ns.county_dept, "douyin")  # opened, never posted: vetoed
    idle.opened_on = date(YEAR - 1, 3, 1)
    idle.save(update_fields=["opened_on"])
    make_account(ns.county_dept, "bilibili")  # opened after the year: not scored
    run = score_run_request(
        organization=ns.province,
        period_start=date(YEAR, 1, 1),
        period_end=date(YEAR, 12, 31),
        actor=ns.users[Role.SUPERVISOR],
        run_now=True,
    )
    return year_freeze(run=run, actor=ns.users[Role.SUPERVISOR]), account


def _data_sheets(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/")}


def test_changing_data_after_the_freeze_leaves_the_export_identical(world, tmp_path):
    ns = world.mine
    freeze, account = _frozen(ns)
    first = tmp_path / "first.xlsx"
    write_annual_xlsx(freeze, first)
    # Live data changes after the freeze: a renamed account, another flag in the year.
    account.display_name = "改名后的账号"
    account.save(update_fields=["display_name"])
    unapproved_post(ns, account, when=datetime(YEAR, 7, 1, 3, tzinfo=UTC))
    second = tmp_path / "second.xlsx"
    write_annual_xlsx(freeze, second)
    sheets = _data_sheets(first)
    assert len(sheets) == 7  # summary, four levels, evidence, figures
    assert sheets == _data_sheets(second)
    assert first.read_bytes() == second.read_bytes()
    assert run_checksum(freeze.run) == freeze.checksum
    # The snapshot holds the name at freeze time, not the new one.
    assert not AccountScore.objects.filter(
        run=freeze.run, account_label="改名后的账号"
    ).exists()


def test_the_workbook_has_a_row_per_account_and_the_evidence(world, tmp_path):
    import openpyxl

    ns = world.mine
    freeze, account = _frozen(ns)
    path = tmp_path / "a.xlsx"
    write_annual_xlsx(freeze, path)
    wb = openpyxl.load_workbook(path, read_only=True)
    names = wb.sheetnames
    assert len(names) == 7
    rows = [
        r for name in names[1:5] for r in list(wb[name].iter_rows(values_only=True))[1:]
    ]
    assert len(rows) == AccountScore.objects.filter(run=freeze.run).count() == 2
    evidence = list(wb[names[5]].iter_rows(values_only=True))[1:]
    assert {r[3] for r in evidence} == {"moderation.flag", "registry.mediaaccount"}


def test_freezing_twice_and_exporting_a_reopened_year_are_refused(world):
    ns = world.mine
    freeze, _account = _frozen(ns)
    with pytest.raises(ApplicationError) as exc:
        year_freeze(run=freeze.run, actor=ns.users[Role.SUPERVISOR])
    assert exc.value.code == "year_already_frozen"
    with pytest.raises(ApplicationError):
        year_reopen(freeze=freeze, actor=ns.users[Role.SUPERVISOR], reason=" ")
    year_reopen(
        freeze=freeze, actor=ns.users[Role.SUPERVISOR], reason="数据更正：补录留言"
    )
    freeze.refresh_from_db()
    assert freeze.status == FreezeStatus.REOPENED
    event = AuditEvent.objects.get(action="assessment.year_reopen")
    assert event.after["reason"] == "数据更正：补录留言"
    again = year_freeze(run=freeze.run, actor=ns.users[Role.SUPERVISOR])
    assert again.version == 2 and again.checksum == freeze.checksum


@pytest.mark.skipif(
    shutil.which("pdffonts") is None, reason="poppler-utils (pdffonts) is not installed"
)
def test_the_pdf_embeds_its_chinese_font(world, tmp_path):
    ns = world.mine
    freeze, _account = _frozen(ns)
    path = tmp_path / "r.pdf"
    write_org_pdf(freeze, ns.province, path)
    fonts = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True
    ).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(" yes yes " in row for row in rows), fonts
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True
    ).stdout
    assert ns.province.name in text and "年度" in text
