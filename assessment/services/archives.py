"""The monthly archive (存档备案, rule 26).

On the first working day of each month, for every organization with media accounts,
last month's record goes into one zip: the publications with their revisions and
sign-off sheets, the posts collectors saw, the flags; the citizen messages grouped by
the five categories, the issue slips and the duty logs when the inbox holds them (else
the manifest says they are not available: nothing is faked). XLSX and JSON inside,
plus a PDF summary. The zip's SHA-256 is recorded in the audit trail.

Idempotent: the content is hashed first (`content_digest`); a second run for the same
month with the same content changes nothing; a correction (different content) makes a
new version, never an overwrite. The zip is byte-reproducible (fixed timestamps, sorted
JSON), so the checksum depends on the content only.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import zipfile
from collections import defaultdict
from datetime import date, datetime, time, timedelta

import xlsxwriter
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization
from assessment.models import MonthlyArchive
from audit.services import audit_record
from workcalendar.calendar import is_working_day

log = logging.getLogger(__name__)
INBOX_MODELS = ("inbox.Message", "inbox.IssueSlip", "inbox.DutyLog")


def first_working_day(month: date, region_code: str = "") -> date:
    day = month.replace(day=1)
    while not is_working_day(day, region_code):
        day += timedelta(days=1)
    return day


def previous_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def _bounds(month: date) -> tuple[datetime, datetime]:
    tz = timezone.get_default_timezone()
    nxt = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (
        timezone.make_aware(datetime.combine(month, time.min), tz),
        timezone.make_aware(datetime.combine(nxt, time.min), tz),
    )


def _iso(moment) -> str | None:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def _inbox_available() -> bool:
    """Whether the archive reads citizen messages, issue slips and duty logs. False
    until the reader of the inbox's models (INBOX_MODELS) is written: the archive then
    says "not available" rather than listing nothing."""
    return False


def month_content(month: date) -> dict[int, dict]:
    """Per organization (with accounts), the month's records as plain data (a few
    set-based queries for all organizations at once)."""
    from moderation.models import Flag, Publication, PublishedPost, SignOffSheet
    from registry.models import MediaAccount

    start, end = _bounds(month)
    orgs = dict(
        MediaAccount.objects.values_list("organization_id", "org_path").distinct()
    )
    content: dict[int, dict] = {
        org_id: {
            "publications": [],
            "revisions": [],
            "signoffs": [],
            "seen_posts": [],
            "flags": [],
        }
        for org_id in orgs
    }
    pubs = (
        Publication.objects.filter(published_at__gte=start, published_at__lt=end)
        .select_related("account", "revision", "post")
        .order_by("id")
    )
    revision_ids: dict[int, set[int]] = defaultdict(set)
    post_ids = set()
    for p in pubs.iterator(chunk_size=2000):
        org_id = p.account.organization_id
        if org_id not in content:
            continue
        content[org_id]["publications"].append(
            {
                "id": p.pk,
                "post": p.post_id,
                "revision": p.revision.number,
                "account": p.account.display_name,
                "url": p.url,
                "published_at": _iso(p.published_at),
                "title": p.revision.title,
                "text": p.revision.text,
            }
        )
        revision_ids[org_id].add(p.post_id)
        post_ids.add(p.post_id)
    if post_ids:
        from moderation.models import PostRevision

        by_post = defaultdict(list)
        for r in PostRevision.objects.filter(post_id__in=post_ids).order_by(
            "post_id", "number"
        ):
            by_post[r.post_id].append(
                {
                    "post": r.post_id,
                    "number": r.number,
                    "title": r.title,
                    "text": r.text,
                    "importance": r.importance,
                    "created_at": _iso(r.created_at),
                }
            )
        sheets = defaultdict(list)
        for s in (
            SignOffSheet.objects.filter(post_id__in=post_ids)
            .select_related("revision")
            .order_by("id")
        ):
            sheets[s.post_id].append(
                {
                    "post": s.post_id,
                    "number": s.number,
                    "revision": s.revision.number,
                    "issued_at": _iso(s.issued_at),
                }
            )
        for org_id, posts in revision_ids.items():
            for post_id in sorted(posts):
                content[org_id]["revisions"] += by_post.get(post_id, [])
                content[org_id]["signoffs"] += sheets.get(post_id, [])
    for row in (
        PublishedPost.objects.filter(published_at__gte=start, published_at__lt=end)
        .select_related("account")
        .order_by("id")
        .iterator(chunk_size=2000)
    ):
        org_id = row.account.organization_id
        if org_id in content:
            content[org_id]["seen_posts"].append(
                {
                    "id": row.pk,
                    "account": row.account.display_name,
                    "text": row.text,
                    "url": row.url,
                    "published_at": _iso(row.published_at),
                    "match": row.match_status,
                }
            )
    for flag in Flag.objects.filter(created_at__gte=start, created_at__lt=end).order_by(
        "id"
    ):
        if flag.organization_id in content:
            content[flag.organization_id]["flags"].append(
                {
                    "id": flag.pk,
                    "kind": flag.kind,
                    "message": flag.message,
                    "created_at": _iso(flag.created_at),
                    "resolved_at": _iso(flag.resolved_at),
                }
            )
    inbox = _inbox_available()
    for data in content.values():
        data["messages_by_category"] = None if not inbox else {}
        data["issue_slips"] = None if not inbox else []
        data["duty_logs"] = None if not inbox else []
    return content


def _zip_entry(z: zipfile.ZipFile, name: str, data: bytes, stamp) -> None:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    z.writestr(info, data)


def _xlsx(data: dict, stamp: datetime) -> bytes:
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buffer,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False},
    )
    wb.set_properties({"created": stamp})
    bold = wb.add_format({"bold": True})
    from assessment.exports import _cell

    for key, title in (
        ("publications", _("Publications")),
        ("seen_posts", _("Posts seen")),
        ("flags", _("Flags")),
    ):
        ws = wb.add_worksheet(str(title)[:31])
        rows = data[key]
        columns = sorted({k for row in rows for k in row}) or ["id"]
        ws.write_row(0, 0, columns, bold)
        for r, row in enumerate(rows, start=1):
            ws.write_row(
                r,
                0,
                [_cell(row.get(c)) if row.get(c) is not None else "" for c in columns],
            )
    wb.close()
    return buffer.getvalue()


def _pdf(org: Organization, month: date, counts: dict, digest: str) -> bytes:
    from assessment.exports import _pdf_class, cjk_font

    pdf = _pdf_class()(orientation="P", unit="mm", format="A4")
    font, index = cjk_font()
    pdf.add_font("cjk", "", font, collection_font_number=index)
    pdf.set_creation_date(timezone.make_aware(datetime.combine(month, time.min)))
    pdf.add_page()
    pdf.set_font("cjk", size=15)
    pdf.multi_cell(
        0,
        8,
        _("%(org)s: monthly archive %(month)s")
        % {"org": org.name, "month": f"{month:%Y-%m}"},
        align="C",
    )
    pdf.set_font("cjk", size=10)
    for label, value in counts.items():
        pdf.multi_cell(0, 6, f"{label}: {value}")
    pdf.multi_cell(0, 6, _("Content digest: %(d)s") % {"d": digest})
    return bytes(pdf.output())


COUNT_LABELS = {
    "publications": "Publications",
    "revisions": "Revisions",
    "signoffs": "Sign-off sheets",
    "seen_posts": "Posts seen",
    "flags": "Flags",
}


def archive_build(
    *, organization: Organization, month: date, data: dict
) -> tuple[bytes, str]:
    """The zip of one organization's month and its content digest."""
    canonical = json.dumps(
        data, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    stamp = (month.year, month.month, 1, 0, 0, 0)
    counts = {_(COUNT_LABELS[k]): len(data[k]) for k in COUNT_LABELS}
    unavailable = _(
        "not available (the citizen-message inbox is not on this installation)"
    )
    counts[_("Citizen messages by category")] = (
        unavailable
        if data["messages_by_category"] is None
        else sum(len(v) for v in data["messages_by_category"].values())
    )
    counts[_("Issue slips")] = (
        unavailable if data["issue_slips"] is None else len(data["issue_slips"])
    )
    counts[_("Duty logs")] = (
        unavailable if data["duty_logs"] is None else len(data["duty_logs"])
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        manifest = {
            "organization": organization.name,
            "organization_id": organization.pk,
            "month": f"{month:%Y-%m}",
            "content_digest": digest,
            "counts": {str(k): v for k, v in counts.items()},
        }
        _zip_entry(
            z,
            "manifest.json",
            json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1).encode(),
            stamp,
        )
        for key in sorted(data):
            _zip_entry(
                z,
                f"{key}.json",
                json.dumps(
                    data[key], ensure_ascii=False, sort_keys=True, indent=1
                ).encode(),
                stamp,
            )
        _zip_entry(z, "records.xlsx", _xlsx(data, datetime(*stamp)), stamp)
        _zip_entry(z, "summary.pdf", _pdf(organization, month, counts, digest), stamp)
    return buffer.getvalue(), digest


def archive_month(month: date, *, organization_ids: list[int] | None = None) -> dict:
    """Archive `month` for every organization with accounts (or those given). Safe to
    run twice: unchanged content writes nothing; changed content makes a new version.
    Returns counts of created and unchanged archives."""
    month = month.replace(day=1)
    content = month_content(month)
    if organization_ids is not None:
        content = {k: v for k, v in content.items() if k in set(organization_ids)}
    orgs = Organization.objects.in_bulk(list(content))
    digests = dict(
        MonthlyArchive.objects.filter(month=month)
        .order_by("organization_id", "version")
        .values_list("organization_id", "content_digest")
    )
    created = unchanged = 0
    folder = os.path.join(settings.MEDIA_ROOT, "archives", f"{month:%Y-%m}")
    os.makedirs(folder, exist_ok=True)
    for org_id in sorted(content):
        org = orgs[org_id]
        zipped, digest = archive_build(
            organization=org, month=month, data=content[org_id]
        )
        if digests.get(org_id) == digest:
            unchanged += 1
            continue
        with transaction.atomic():
            # The lock makes two concurrent runs write one version (the second sees it).
            Organization.objects.select_for_update().filter(pk=org_id).first()
            last = (
                MonthlyArchive.objects.filter(organization_id=org_id, month=month)
                .order_by("-version")
                .first()
            )
            if last is not None and last.content_digest == digest:
                unchanged += 1
                continue
            version = (last.version + 1) if last else 1
            name = f"{org_id}-v{version}.zip"
            path = os.path.join(folder, name)
            with open(path + ".part", "wb") as fh:
                fh.write(zipped)
            os.replace(path + ".part", path)
            checksum = hashlib.sha256(zipped).hexdigest()
            archive = MonthlyArchive.objects.create(
                organization=org,
                org_path=org.path,
                month=month,
                version=version,
                file_path=os.path.relpath(path, settings.MEDIA_ROOT),
                size=len(zipped),
                checksum=checksum,
                content_digest=digest,
                counts={
                    k: len(v) if isinstance(v, list) else v
                    for k, v in content[org_id].items()
                },
            )
            audit_record(
                actor=None,
                action="assessment.archive_create",
                target=archive,
                organization=org,
                after={
                    "month": f"{month:%Y-%m}",
                    "version": version,
                    "checksum": checksum,
                    "size": len(zipped),
                    "supersedes": last.pk if last else None,
                },
            )
            created += 1
    return {"created": created, "unchanged": unchanged}


def archives_monthly_job(today: date | None = None) -> dict | None:
    """The beat's daily call: on the first working day of the month, archive last month
    (under a lock, so two workers do not both build it). Other days: nothing."""
    today = today or timezone.localdate()
    if today != first_working_day(today):
        return None
    if not cache.add("assessment-archive-lock", "1", timeout=3600):
        return None
    try:
        return archive_month(previous_month(today))
    finally:
        cache.delete("assessment-archive-lock")
