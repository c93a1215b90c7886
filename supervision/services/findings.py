"""Findings: raise (set-based), reconcile with what a sweep sees, close, dispose,
and assign (交办) to the sponsoring organization with a notice.

Every finding is raised with `assigned_at` = the batch's time, which is also the
batch marker: after commit, one follow-up (`supervision.notify_findings`) notifies
the people of each organization that received findings in that batch, once (the
dedupe key carries the marker), so a sweep run twice opens one finding and sends one
notice (the second run raises nothing).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Min, Q, QuerySet, Value
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, Role
from accounts.scoping import Action, require
from audit.services import audit_record
from common.errors import Conflict, PermissionDenied, ValidationFailed
from notifications.models import Notification
from notifications.services import notify_many
from registry.models import MediaAccount
from supervision.models import (
    DEFAULT_SEVERITY,
    CloseReason,
    Disposition,
    Finding,
    FindingKind,
    FindingOrigin,
    FindingStatus,
    RectificationOrder,
    Severity,
    SweepStamp,
)

# Who in the sponsoring organization receives its findings.
ASSIGNEE_ROLES = (
    Role.OPERATOR,
    Role.DEPARTMENT_HEAD,
    Role.LIAISON,
    Role.PRINCIPAL_LEADER,
    Role.SUPERVISOR,
)


def stable_ref(text: str) -> int:
    """A stable 63-bit subject id for things without a row of their own (a
    counterfeit candidate's normalized URL or name)."""
    return int.from_bytes(hashlib.sha1(text.encode()).digest()[:8], "big") >> 1


def raise_many(
    *,
    kind: str,
    origin: str,
    rows: list[dict],
    now: datetime | None = None,
    severity: str | None = None,
    actor=None,
    role: str = "",
) -> int:
    """Open findings of one kind for `rows` (dicts with subject_ref, account_id,
    organization_id, org_path, evidence). One query for repeats, one bulk INSERT
    (a subject that already has an open finding is skipped by the partial unique
    index), one audit event for the batch, and the notice after commit. Caller is in
    a transaction. Returns how many were opened."""
    if not rows:
        return 0
    now = now or timezone.now()
    severity = severity or DEFAULT_SEVERITY[kind]
    refs = [r["subject_ref"] for r in rows]
    # Rule 34: a subject whose earlier finding was closed as rectified and is seen
    # again is "failed again": the new finding points at it, its orders are marked.
    repeats = (
        dict(
            Finding.objects.filter(
                kind=kind,
                subject_ref__in=refs,
                status=FindingStatus.CLOSED,
                close_reason=CloseReason.RECTIFIED,
            )
            .values("subject_ref")
            .annotate(last=Min("id"))
            .values_list("subject_ref", "last")
        )
        if origin == FindingOrigin.SWEEP
        else {}
    )
    objs = [
        Finding(
            kind=kind,
            severity=severity,
            status=FindingStatus.OPEN,
            origin=origin,
            subject_ref=r["subject_ref"],
            account_id=r.get("account_id"),
            organization_id=r["organization_id"],
            org_path=r["org_path"],
            evidence=r.get("evidence") or {},
            first_seen_at=now,
            last_seen_at=now,
            assigned_at=now,
            created_by=actor,
            repeat_of_id=repeats.get(r["subject_ref"]),
        )
        for r in rows
    ]
    Finding.objects.bulk_create(objs, batch_size=2000, ignore_conflicts=True)
    opened = Finding.objects.filter(
        kind=kind, assigned_at=now, status=FindingStatus.OPEN
    )
    first = opened.select_related("organization").order_by("id").first()
    if first is None:
        return 0
    count = opened.count()
    if repeats:
        RectificationOrder.objects.filter(
            finding_id__in=repeats.values(), failed_again_at__isnull=True
        ).update(failed_again_at=now)
    audit_record(
        actor=actor,
        action="supervision.finding_raise",
        target=first,
        organization=first.organization,
        role=role,
        after={
            "kind": kind,
            "origin": origin,
            "opened": count,
            "failed_again": len(repeats),
        },
    )
    stamp = now.isoformat()
    transaction.on_commit(lambda: _send_notice(stamp))
    return count


def _send_notice(stamp: str) -> None:
    from supervision.tasks import notify_findings

    notify_findings.delay(stamp)


# Ids per UPDATE / refs per lookup when a run closes or opens many at once (the
# first run over a country opens ~150,000 staffing findings).
CHUNK = 5000


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _diff(kind: str, seen: QuerySet) -> tuple[list[tuple], int]:
    """One pass over what the sweep sees and the kind's open findings: a full outer
    join on the subject, keeping only the differences (open findings no longer
    seen, subjects seen without an open finding) and the open findings not raised
    by the sweep that it sees, as rows (finding id, its origin, seen subject); and
    how many of the sweep's own open findings it sees again (counted in the same
    pass). The `seen` query runs once, whatever its size; in the steady state the
    answer is a handful of rows."""
    sql, params = seen.order_by().query.sql_with_params()
    table = connection.ops.quote_name(Finding._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and connection.in_atomic_block:
            cursor.execute(
                "SELECT set_config('work_mem', %s, true)",
                [settings.SUPERVISION_SWEEP_WORK_MEM],
            )
        cursor.execute(
            f"WITH d AS MATERIALIZED (SELECT f.id, f.origin, s.ref FROM ({sql}) s "
            f"FULL OUTER JOIN (SELECT id, origin, subject_ref FROM {table} "
            "WHERE kind = %s AND status = %s) f ON f.subject_ref = s.ref) "
            "SELECT 0, id, origin, ref FROM d "
            "WHERE id IS NULL OR ref IS NULL OR origin <> %s "
            "UNION ALL SELECT 1, NULL, NULL, count(*) FROM d "
            "WHERE id IS NOT NULL AND ref IS NOT NULL AND origin = %s",
            [
                *params,
                kind,
                FindingStatus.OPEN,
                FindingOrigin.SWEEP,
                FindingOrigin.SWEEP,
            ],
        )
        rows, seen_again = [], 0
        for part, finding_id, origin, ref in cursor.fetchall():
            if part:
                seen_again = ref
            else:
                rows.append((finding_id, origin, ref))
        return rows, seen_again


def reconcile(*, kind: str, seen: QuerySet, now: datetime, evidence) -> dict:
    """Bring the open findings of `kind` in line with what a sweep sees now.

    `seen` is a values() queryset with `ref` (the subject), `account_id`,
    `organization_id`, `org_path` and whatever `evidence(row)` reads. Set-based:
    one pass finds the differences (_diff); the sweep's open findings no longer
    seen are closed (their last sighting was the previous run), the new ones
    inserted, and the kind's run stamped (SweepStamp). The sweep's open findings
    still seen are not rewritten: their "last seen" is the stamp
    (FindingQuerySet.with_last_seen). Findings of the kind raised by hand or by an
    inspection (few) that the sweep also sees get `last_seen_at`. A fixed number of
    statements per run when little changed. Caller holds the sweep lock."""
    previous = (
        SweepStamp.objects.filter(kind=kind).values_list("ran_at", flat=True).first()
    )
    close_ids, others_seen, new_refs = [], [], {}
    diff, seen_again = _diff(kind, seen)
    for finding_id, origin, ref in diff:
        if finding_id is None:
            new_refs[ref] = None
        elif ref is None:
            if origin == FindingOrigin.SWEEP:
                close_ids.append(finding_id)
        else:
            others_seen.append(finding_id)
    refreshed = 0
    for ids in _chunks(others_seen):
        refreshed += Finding.objects.filter(pk__in=ids).update(last_seen_at=now)
    closed = 0
    last_seen = (
        Greatest(F("last_seen_at"), Value(previous))
        if previous is not None
        else F("last_seen_at")
    )
    for ids in _chunks(close_ids):
        closed += Finding.objects.filter(pk__in=ids).update(
            status=FindingStatus.CLOSED,
            closed_at=now,
            close_reason=CloseReason.NOT_SEEN,
            last_seen_at=last_seen,
        )
    refreshed += seen_again
    new_rows = []
    for refs in _chunks(list(new_refs)):
        new_rows += list(seen.filter(ref__in=refs))
    rows = [
        {
            "subject_ref": r["ref"],
            "account_id": r.get("account_id"),
            "organization_id": r["organization_id"],
            "org_path": r["org_path"],
            "evidence": evidence(r),
        }
        for r in new_rows
    ]
    opened = raise_many(kind=kind, origin=FindingOrigin.SWEEP, rows=rows, now=now)
    if not SweepStamp.objects.filter(kind=kind).update(ran_at=now):
        SweepStamp.objects.create(kind=kind, ran_at=now)
    return {"opened": opened, "refreshed": refreshed, "closed": closed}


@transaction.atomic
def findings_notify_assigned(*, stamp: str) -> int:
    """The follow-up of a batch: each organization that received findings in the
    batch marked `stamp` is told once, in one message counting them. Three queries
    (groups, recipients, the bulk insert), whatever the number of organizations."""
    at = datetime.fromisoformat(stamp)
    groups = list(
        Finding.objects.filter(assigned_at=at)
        .values("organization_id")
        .annotate(n=Count("id"), kind=Min("kind"))
        .order_by()
    )
    if not groups:
        return 0
    per_org = {g["organization_id"]: g for g in groups}
    members = (
        Membership.objects.active()
        .filter(organization_id__in=per_org, role__in=ASSIGNEE_ROLES)
        .values_list("organization_id", "user_id")
        .distinct()
    )
    recipients = defaultdict(set)
    for org_id, user_id in members:
        recipients[org_id].add(user_id)
    url = reverse("supervision:finding_list")
    rows = []
    for org_id, users in recipients.items():
        group = per_org[org_id]
        if group["n"] == 1:
            message = _("New finding assigned to your organization: %(kind)s.") % {
                "kind": FindingKind(group["kind"]).label
            }
        else:
            message = _("%(n)d new findings assigned to your organization.") % {
                "n": group["n"]
            }
        for user_id in users:
            rows.append(
                Notification(
                    recipient_id=user_id,
                    organization_id=org_id,
                    kind="supervision.finding_assigned",
                    message=str(message)[:300],
                    url=f"{url}?organization={org_id}",
                    target_type="supervision.finding",
                    target_id="",
                    dedupe_key=f"findings:{stamp}:{org_id}",
                )
            )
    return notify_many(rows=rows)


def is_supervisor_over(user, organization: Organization) -> bool:
    """Whether the user holds the supervisor role at the organization or above."""
    held = {
        m.organization.path for m in _memberships(user) if m.role == Role.SUPERVISOR
    }
    return any(organization.path.startswith(p) for p in held)


def _memberships(user):
    from accounts.scoping import memberships_of

    return memberships_of(user)


def require_supervisor_over(actor, organization: Organization) -> str:
    role = require(actor, Action.CHANGE, organization)
    if not is_supervisor_over(actor, organization):
        raise PermissionDenied(
            _("Only a supervisor above the organization may do this."),
            code="not_supervisor",
        )
    return role


@transaction.atomic
def finding_raise_manual(
    *,
    actor,
    kind: str,
    account: MediaAccount | None = None,
    organization: Organization | None = None,
    note: str,
    severity: str | None = None,
    evidence_url: str = "",
    evidence_file=None,
    inspection=None,
) -> Finding:
    """A manual alert by a supervisor (or an inspector within an inspection), with
    evidence: a note, a link and/or a screenshot. About an account (assigned to its
    sponsoring organization) or an organization."""
    errors = {}
    if kind not in FindingKind.values:
        errors["kind"] = [_("Unknown kind.")]
    if severity and severity not in Severity.values:
        errors["severity"] = [_("Unknown severity.")]
    if account is None and organization is None:
        errors["account"] = [_("Name the account or the organization concerned.")]
    if not (note or "").strip():
        errors["note"] = [_("Describe what was found.")]
    if evidence_url and (
        not evidence_url.startswith(("http://", "https://")) or len(evidence_url) > 500
    ):
        errors["evidence_url"] = [_("Enter a valid URL.")]
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), fields=errors)
    if account is not None:
        organization = account.organization
    role = require_supervisor_over(actor, organization)
    if (
        inspection is not None
        and account is not None
        and not inspection.items.filter(account=account).exists()
    ):
        raise ValidationFailed(
            _("This account is not in the inspection's sample."),
            fields={"account": [_("Not in the sample.")]},
        )
    now = timezone.now()
    ref = account.pk if account is not None else organization.pk
    if Finding.objects.filter(
        kind=kind, subject_ref=ref, status=FindingStatus.OPEN
    ).exists():
        raise Conflict(
            _("An open finding of this kind already exists for it."),
            code="finding_open",
        )
    finding = Finding(
        kind=kind,
        severity=severity or DEFAULT_SEVERITY[kind],
        origin=(FindingOrigin.INSPECTION if inspection else FindingOrigin.MANUAL),
        subject_ref=ref,
        account=account,
        organization=organization,
        org_path=organization.path,
        note=note.strip()[:4000],
        evidence_url=evidence_url,
        first_seen_at=now,
        last_seen_at=now,
        assigned_at=now,
        created_by=actor,
        inspection=inspection,
        evidence={"source": "manual"},
    )
    if evidence_file is not None:
        from common.uploads import upload_check

        upload_check(evidence_file, field="evidence_file")  # the attachment allow-list
        finding.evidence_file = evidence_file
    finding.save()
    audit_record(
        actor=actor,
        action="supervision.finding_raise",
        target=finding,
        organization=organization,
        role=role,
        after={"kind": kind, "severity": finding.severity, "origin": finding.origin},
    )
    stamp = now.isoformat()
    transaction.on_commit(lambda: _send_notice(stamp))
    return finding


@transaction.atomic
def finding_close(
    *, finding: Finding, actor, reason: str = CloseReason.DISMISSED, note: str = ""
) -> Finding:
    finding = (
        Finding.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=finding.pk)
    )
    role = require_supervisor_over(actor, finding.organization)
    if finding.status != FindingStatus.OPEN:
        raise Conflict(_("This finding is already closed."), code="finding_closed")
    if reason not in (CloseReason.DISMISSED, CloseReason.RECTIFIED):
        raise ValidationFailed(
            _("Unknown reason."), fields={"reason": [_("Unknown reason.")]}
        )
    if reason == CloseReason.DISMISSED and not note.strip():
        raise ValidationFailed(
            _("Say why it is dismissed."), fields={"note": [_("Required.")]}
        )
    _close(finding, actor, reason, note)
    audit_record(
        actor=actor,
        action="supervision.finding_close",
        target=finding,
        organization=finding.organization,
        role=role,
        after={"reason": reason, "note": finding.note},
    )
    return finding


def _close(finding: Finding, actor, reason: str, note: str = "") -> None:
    finding.status = FindingStatus.CLOSED
    finding.closed_at = timezone.now()
    finding.closed_by = actor
    finding.close_reason = reason
    if note.strip():
        finding.note = (finding.note + "\n" + note.strip()).strip()[:4000]
    finding.save(
        update_fields=["status", "closed_at", "closed_by", "close_reason", "note"]
    )


COUNTERFEIT_KINDS = {
    "imitation": FindingKind.COUNTERFEIT,
    "unfiled": FindingKind.UNREGISTERED,
    "cancelled": FindingKind.CANCELLED_POSTING,
}


@transaction.atomic
def counterfeit_record(
    *, actor, organization: Organization, results: list[dict]
) -> int:
    """Store the findings of a counterfeit check (registry.counterfeit, the
    `as_dict()` of each result) run by a supervisor: imitations, unfiled accounts and
    cancelled accounts still online. Each candidate is its own subject (a hash of its
    URL or normalized name), so recording the same check twice opens nothing new.
    Assigned to the organization whose account is imitated or whose name the
    candidate carries, else to the checking organization."""
    role = require_supervisor_over(actor, organization)
    orgs = {
        o.pk: o
        for o in Organization.objects.filter(
            pk__in={
                r.get("organization_id") for r in results if r.get("organization_id")
            },
            path__startswith=organization.path,
        )
    }
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for r in results:
        kind = COUNTERFEIT_KINDS.get(r.get("kind"))
        key = (r.get("url") or r.get("name") or "").strip().lower()
        if kind is None or not key:
            continue
        account = r.get("account") or {}
        owner = orgs.get(r.get("organization_id")) or organization
        by_kind[kind].append(
            {
                "subject_ref": stable_ref(f"{kind}:{key}"),
                "account_id": account.get("id")
                if kind == FindingKind.CANCELLED_POSTING
                else None,
                "organization_id": owner.pk,
                "org_path": owner.path,
                "evidence": {
                    "candidate": r.get("name") or "",
                    "url": r.get("url") or "",
                    "reasons": [str(x) for x in r.get("reasons") or []],
                    "likeness": r.get("likeness"),
                    "imitates": account.get("id"),
                    "imitates_name": account.get("name"),
                },
            }
        )
    opened = 0
    now = timezone.now()
    for kind, rows in by_kind.items():
        opened += raise_many(
            kind=kind,
            origin=FindingOrigin.CHECK,
            rows=rows,
            now=now,
            actor=actor,
            role=role,
        )
    return opened


@transaction.atomic
def finding_dispose(
    *, finding: Finding, actor, disposition: str, note: str = ""
) -> Finding:
    """Record what became of a counterfeit or unregistered account: reported to the
    platform (stays open), taken down or a false positive (closes it)."""
    finding = (
        Finding.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=finding.pk)
    )
    role = require_supervisor_over(actor, finding.organization)
    if finding.kind not in (
        FindingKind.COUNTERFEIT,
        FindingKind.UNREGISTERED,
        FindingKind.CANCELLED_POSTING,
    ):
        raise Conflict(
            _("Only counterfeit and unregistered accounts take a disposition."),
            code="no_disposition",
        )
    if disposition not in Disposition.values:
        raise ValidationFailed(
            _("Unknown disposition."),
            fields={"disposition": [_("Unknown disposition.")]},
        )
    if finding.status != FindingStatus.OPEN:
        raise Conflict(_("This finding is already closed."), code="finding_closed")
    before = finding.disposition
    finding.disposition = disposition
    finding.save(update_fields=["disposition"])
    if disposition in (Disposition.TAKEN_DOWN, Disposition.FALSE_POSITIVE):
        _close(finding, actor, CloseReason.DISPOSED, note)
    audit_record(
        actor=actor,
        action="supervision.finding_dispose",
        target=finding,
        organization=finding.organization,
        role=role,
        before={"disposition": before},
        after={"disposition": disposition},
    )
    return finding


def open_findings_q() -> Q:
    return Q(status=FindingStatus.OPEN)
