"""Monthly circulars (reviewed, then published; each organization sees its own part)
and the monthly archive (once per content; checksum in the audit trail)."""

from __future__ import annotations

import hashlib
import os
import zipfile
from datetime import UTC, date, datetime

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import Role
from assessment.models import CircularStatus, MonthlyArchive
from assessment.services import archives, circulars
from assessment.services.scoring import score_run_request
from audit.models import AuditEvent
from common.errors import ApplicationError
from tests.assessment.helpers import active_rubric, unapproved_post
from tests.moderation.factories import make_account

pytestmark = pytest.mark.django_db


def _month_run(ns, year=2025, month=6):
    active_rubric(ns, year=year)
    city_account = make_account(ns.city_dept, "weibo")
    county_account = make_account(ns.county_dept, "weibo")
    for acc in (city_account, county_account):
        acc.opened_on = date(year - 1, 1, 1)
        acc.last_post_at = datetime(year, month, 28, tzinfo=UTC)
        acc.save(update_fields=["opened_on", "last_post_at"])
    unapproved_post(ns, city_account, when=datetime(year, month, 3, 2, tzinfo=UTC))
    run = score_run_request(
        organization=ns.province,
        period_start=date(year, month, 1),
        period_end=date(year, month, 30),
        actor=ns.users[Role.SUPERVISOR],
        run_now=True,
    )
    return run, city_account, county_account


def test_a_circular_is_reviewed_then_published_and_each_sees_its_part(world, settings):
    ns = world.mine
    run, city_account, county_account = _month_run(ns)
    supervisor = ns.users[Role.SUPERVISOR]
    circular = circulars.circular_generate(run=run, actor=supervisor)
    assert {p.organization_id for p in circular.parts.all()} == {
        ns.city_dept.pk,
        ns.county_dept.pk,
    }
    city_part = circular.parts.get(organization=ns.city_dept)
    assert city_part.headings[0]["code"] == "unapproved_publication"
    operator = Client()
    operator.force_login(ns.users[Role.OPERATOR])  # works in the city department
    assert operator.get(f"/assessment/circulars/{circular.pk}/").status_code == 404
    with pytest.raises(ApplicationError):  # publishing skips the review
        circulars.circular_transition(
            circular=circular, to=CircularStatus.PUBLISHED, actor=supervisor
        )
    circulars.circular_transition(
        circular=circular, to=CircularStatus.REVIEWED, actor=supervisor, note="核对无误"
    )
    circulars.circular_transition(
        circular=circular, to=CircularStatus.PUBLISHED, actor=supervisor
    )
    page = operator.get(f"/assessment/circulars/{circular.pk}/")
    assert page.status_code == 200
    assert [p.organization_id for p in page.context["parts"]] == [ns.city_dept.pk]
    assert county_account.display_name not in page.content.decode()
    for fmt, magic in (("xlsx", b"PK"), ("pdf", b"%PDF")):
        response = operator.get(f"/assessment/circulars/{circular.pk}/export.{fmt}")
        assert response.status_code == 200 and response.content.startswith(magic)
    other = Client()
    other.force_login(world.other.users[Role.SUPERVISOR])
    assert other.get(f"/assessment/circulars/{circular.pk}/").status_code == 404


def test_the_archive_job_archives_a_month_once_and_its_checksum_is_audited(world):
    ns = world.mine
    account = make_account(ns.city_dept, "weibo")
    unapproved_post(ns, account, when=datetime(2025, 6, 3, 2, tzinfo=UTC))
    month = date(2025, 6, 1)
    first = archives.archive_month(month)
    assert first["created"] >= 1
    archive = MonthlyArchive.objects.get(organization=ns.city_dept, month=month)
    path = os.path.join(settings.MEDIA_ROOT, archive.file_path)
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    event = AuditEvent.objects.get(
        action="assessment.archive_create", target_id=str(archive.pk)
    )
    assert event.after["checksum"] == digest == archive.checksum
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
    assert {"manifest.json", "records.xlsx", "summary.pdf", "flags.json"} <= names
    # A second run for the same month changes nothing.
    again = archives.archive_month(month)
    assert again["created"] == 0
    assert (
        MonthlyArchive.objects.filter(organization=ns.city_dept, month=month).count()
        == 1
    )
    # A correction (another post of that month reported late) makes a new version.
    unapproved_post(ns, account, when=datetime(2025, 6, 20, 2, tzinfo=UTC))
    archives.archive_month(month)
    versions = list(
        MonthlyArchive.objects.filter(organization=ns.city_dept, month=month)
        .order_by("version")
        .values_list("version", "checksum")
    )
    assert [v for v, _c in versions] == [1, 2] and versions[0][1] == digest
    assert os.path.exists(path)  # the first version is kept, never overwritten
    # Downloads: the organization's operator yes; no export right: 403; elsewhere: 404.
    url = f"/assessment/archives/{archive.pk}/download/"
    for user, status in (
        (ns.users[Role.OPERATOR], 200),
        (ns.users[Role.OUTSOURCED_OPERATOR], 403),
        (world.other.users[Role.SUPERVISOR], 404),
    ):
        client = Client()
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == status, user
        if status == 200:
            assert (
                hashlib.sha256(b"".join(response.streaming_content)).hexdigest()
                == digest
            )


def test_the_beat_job_acts_on_the_first_working_day_only(world):
    assert archives.first_working_day(date(2025, 10, 1)) == date(2025, 10, 9)
    assert archives.archives_monthly_job(date(2025, 10, 8)) is None
    assert archives.archives_monthly_job(date(2025, 10, 9)) is not None
