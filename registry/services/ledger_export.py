"""Export of the filtered ledger to CSV and XLSX, in constant memory.

Rows come from one `values_list(...).iterator()` with organization, platform,
supervising organization and liaison joined in SQL; operators' names come from one
query per chunk of rows. Nothing holds more than a chunk in memory; the writing itself
(labels, local times, formula neutralising, CSV/XLSX) is common/exports.py's.
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from itertools import islice

from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Level, OrgKind
from common import exports
from common.exports import Column, Table
from common.pii import mask_phone
from registry.ledger import POSTING_STATUSES, idle_days_default
from registry.models import (
    AccountCategory,
    AccountStatus,
    MediaAccount,
    VerificationStatus,
)

CHUNK = 2000

# (header, source) in column order. A source is a values_list field, or a key
# computed per row in `_rows` (prefixed with "=").
COLUMNS: list[tuple] = [
    (gettext_lazy("No."), "=seq"),
    (gettext_lazy("Account ID"), "id"),
    (gettext_lazy("Sponsoring organization"), "organization__name"),
    (gettext_lazy("Organization level"), "organization__level"),
    (gettext_lazy("Organization kind"), "organization__kind"),
    (gettext_lazy("Region code"), "region_code"),
    (gettext_lazy("Supervising organization"), "supervising_organization__name"),
    (gettext_lazy("Supervising organization set by hand"), "supervising_overridden"),
    (gettext_lazy("Platform"), "platform__name"),
    (gettext_lazy("Platform code"), "platform__code"),
    (gettext_lazy("Display name"), "display_name"),
    (gettext_lazy("Platform account id"), "platform_account_id"),
    (gettext_lazy("Profile URL"), "profile_url"),
    (gettext_lazy("Category"), "category"),
    (gettext_lazy("Real-name verification"), "verification"),
    (gettext_lazy("Status"), "status"),
    (gettext_lazy("Operators"), "=operators"),
    (gettext_lazy("Number of operators"), "=operator_count"),
    (gettext_lazy("Liaison"), "=liaison"),
    # Masked (138****5678): personal information leaves only masked in bulk; the full
    # number is an audited reveal on the organization's page (common/pii.py).
    (gettext_lazy("Liaison phone"), "=liaison_phone"),
    (gettext_lazy("Followers"), "followers"),
    (gettext_lazy("Last post"), "last_post_at"),
    (gettext_lazy("Days since last post"), "=idle_days"),
    (gettext_lazy("Idle"), "=idle"),
    (gettext_lazy("Opened on"), "opened_on"),
    (gettext_lazy("Registered at"), "created_at"),
    (gettext_lazy("Updated at"), "updated_at"),
    (gettext_lazy("Organization ID"), "organization_id"),
    (gettext_lazy("Supervising organization ID"), "supervising_organization_id"),
    (gettext_lazy("Platform (English)"), "platform__name_en"),
]
_FIELDS = [src for _h, src in COLUMNS if not src.startswith("=")]
_EXTRA = ["liaison__display_name", "liaison__username", "liaison__phone"]
_INDEX = {name: i for i, name in enumerate(_FIELDS + _EXTRA)}


def headers() -> list[str]:
    return [str(h) for h, _src in COLUMNS]


def _operators_of(ids: list[int]) -> dict[int, list[str]]:
    """Operators' names per account for one chunk: one query."""
    through = MediaAccount.operators.through
    names: dict[int, list[str]] = defaultdict(list)
    rows = (
        through.objects.filter(mediaaccount_id__in=ids)
        .order_by("mediaaccount_id", "user__username")
        .values_list("mediaaccount_id", "user__display_name", "user__username")
    )
    for account_id, display_name, username in rows:
        names[account_id].append(display_name or username)
    return names


def _column(header, src) -> Column:
    labels = {
        "organization__level": Level.choices,
        "organization__kind": OrgKind.choices,
        "category": AccountCategory.choices,
        "verification": VerificationStatus.choices,
        "status": AccountStatus.choices,
    }
    if src in labels:
        return Column(header, labels=dict(labels[src]))
    if src in ("id", "followers", "organization_id", "supervising_organization_id"):
        return Column(header, "number")
    if src in ("last_post_at", "created_at", "updated_at"):
        return Column(header, "datetime", width=20)
    if src in ("=seq", "=operator_count", "=idle_days"):
        return Column(header, "number")
    if src in ("display_name", "organization__name", "supervising_organization__name"):
        return Column(header, width=30)
    return Column(header)


def columns() -> list[Column]:
    return [_column(h, src) for h, src in COLUMNS]


def ledger_rows(queryset) -> Iterator[list]:
    """Raw export rows of `queryset` in its order, a chunk at a time (the writer in
    common/exports.py turns codes into labels, times into local time, and so on)."""
    posting = {str(s) for s in POSTING_STATUSES}
    idle_after = idle_days_default()
    now = timezone.now()
    ix = _INDEX
    plan = [src if src.startswith("=") else ix[src] for _h, src in COLUMNS]
    i_id, i_last, i_status = ix["id"], ix["last_post_at"], ix["status"]
    i_lname, i_luser = ix["liaison__display_name"], ix["liaison__username"]
    i_lphone = ix["liaison__phone"]
    source = queryset.values_list(*_FIELDS, *_EXTRA).iterator(chunk_size=CHUNK)
    seq = 0
    while True:
        chunk = list(islice(source, CHUNK))
        if not chunk:
            return
        operators = _operators_of([row[i_id] for row in chunk])
        for row in chunk:
            seq += 1
            names = operators.get(row[i_id], ())
            last = row[i_last]
            idle_days = (now - last).days if last else None
            computed = {
                "=seq": seq,
                "=operators": "、".join(names),
                "=operator_count": len(names),
                "=liaison": row[i_lname] or row[i_luser] or "",
                "=liaison_phone": mask_phone(row[i_lphone]),
                "=idle_days": idle_days,
                "=idle": row[i_status] in posting
                and (idle_days is None or idle_days > idle_after),
            }
            yield [
                computed[step] if step.__class__ is str else row[step] for step in plan
            ]
        del chunk


def ledger_table(queryset, organization: str = "") -> Table:
    """The ledger export as a table for the one writer (common/exports.py)."""
    return Table(
        title=_("Media account ledger"),
        columns=columns(),
        rows=ledger_rows(queryset),
        count=queryset.order_by().count,
        organization=organization,
    )


def xlsx_tempfile(queryset) -> str:
    """Write the XLSX to a new temporary file and return its path (caller removes it)."""
    handle, path = tempfile.mkstemp(
        prefix="ledger-", suffix=".xlsx", dir=exports.tmp_dir()
    )
    os.close(handle)
    try:
        exports.write_xlsx(ledger_table(queryset), path)
    except BaseException:
        os.unlink(path)
        raise
    return path


def require_export(user) -> None:
    """404 when the user sees no business data, 403 when they see it but may not
    export."""
    from accounts.scoping import Action, Domain, scope_for
    from common.errors import NotFound, PermissionDenied

    if scope_for(user, Action.EXPORT, Domain.BUSINESS).is_empty:
        if scope_for(user, Action.VIEW, Domain.BUSINESS).is_empty:
            raise NotFound(gettext("Not found."))
        raise PermissionDenied(gettext("You may not export from here."))


def build_table(user, params) -> Table:
    """The ledger export of `user` with the ledger's filters (registered as the
    "ledger" export kind, so a job rebuilds it the same way in the worker)."""
    from accounts.models import Organization
    from accounts.scoping import Action, Domain
    from common.errors import ValidationFailed
    from registry.ledger import ledger_filter

    require_export(user)
    filterset = ledger_filter(user, params, Action.EXPORT)
    if not filterset.is_valid():
        raise ValidationFailed(
            gettext("The filter is not valid."),
            fields={k: list(v) for k, v in filterset.errors.items()},
        )
    queryset = filterset.qs  # an invisible ?org= answers 404 here
    org = None
    org_id = filterset.form.cleaned_data.get("org")
    if org_id:
        org = Organization.objects.filter(pk=int(org_id)).first()
    label = exports.scope_label(user, Action.EXPORT, Domain.BUSINESS, org)
    return ledger_table(queryset, organization=label)
