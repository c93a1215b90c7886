"""Filings' before/after for people: translated field labels, names instead of ids,
choice labels instead of codes, dates formatted.

A filing stores `before`/`after` as raw values (ids, codes, ISO dates) so the record
outlives renames; this module renders them for the filing page, the account history
and the API. `describe_changes` works on a whole list of filings at once: it collects
every user and organization id first and fetches their names in one query each, so a
page costs the same number of queries whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime

from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import Organization, User
from registry.models import Filing, MediaAccount, Platform

USER_FIELDS = frozenset({"liaison", "operators", "principal_leader", "holder"})
ORGANIZATION_FIELDS = frozenset({"organization", "supervising_organization"})


@dataclass(frozen=True)
class Change:
    field: str
    label: str
    before: str | None
    after: str | None
    changed: bool

    def as_dict(self) -> dict:
        return asdict(self)


def _ids(value) -> list[int]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool)]


def _model_field(name: str):
    for model in (MediaAccount, Filing):
        try:
            return model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
    return None


def field_label(name: str) -> str:
    field = _model_field(name)
    label = getattr(field, "verbose_name", None)
    return capfirst(str(label)) if label else name


def _platform_names(filings: list[Filing], codes: set[str]) -> dict[str, str]:
    """Platform names by code: from the filings' own accounts when they are loaded
    (select_related), else one query for the codes left."""
    names: dict[str, str] = {}
    for f in filings:
        account = f.account if Filing.account.is_cached(f) else None
        if account is not None and MediaAccount.platform.is_cached(account):
            names[account.platform.code] = account.platform.name
    missing = codes - set(names)
    if missing:
        names.update(Platform.objects.filter(code__in=missing).values_list("code", "name"))
    return names


def _format_date(value: str) -> str | None:
    parsed = parse_datetime(value) if "T" in value or " " in value else None
    if parsed is not None:
        if timezone.is_aware(parsed):
            parsed = timezone.localtime(parsed)
        return date_format(parsed, "Y-m-d H:i")
    parsed_date = parse_date(value) if len(value) == 10 else None
    if parsed_date is not None:
        return date_format(parsed_date, "Y-m-d")
    return None


class _Renderer:
    def __init__(self, users: dict, organizations: dict, platforms: dict):
        self.users = users
        self.organizations = organizations
        self.platforms = platforms

    def value(self, name: str, value) -> str | None:
        if value is None or value == "" or value == []:
            return None
        separator = pgettext("list separator", ", ")
        if name in USER_FIELDS:
            return separator.join(self.users.get(i, f"#{i}") for i in _ids(value)) or None
        if name in ORGANIZATION_FIELDS:
            return separator.join(self.organizations.get(i, f"#{i}") for i in _ids(value)) or None
        if name == "platform":
            return self.platforms.get(value, str(value))
        field = _model_field(name)
        choices = dict(field.flatchoices) if field is not None and field.choices else {}
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if isinstance(value, list):
            return separator.join(str(self.value(name, v) or "—") for v in value)
        if isinstance(value, dict):
            return separator.join(
                _("%(key)s: %(value)s") % {"key": k, "value": v} for k, v in value.items()
            )
        if choices and value in choices:
            return str(choices[value])
        if isinstance(value, datetime):
            return date_format(timezone.localtime(value), "Y-m-d H:i")
        if isinstance(value, date):
            return date_format(value, "Y-m-d")
        if isinstance(value, str):
            return _format_date(value) or value
        return str(value)


def describe_changes(filings: Iterable[Filing]) -> dict[int, list[Change]]:
    """{filing id: its before/after rows for people}, for every filing given.

    At most two queries whatever the number of filings (users, organizations), plus
    one for platforms only when the filings' accounts were not loaded with them."""
    filings = list(filings)
    user_ids: set[int] = set()
    org_ids: set[int] = set()
    codes: set[str] = set()
    for f in filings:
        for state in (f.before or {}, f.after or {}):
            for name, value in state.items():
                if name in USER_FIELDS:
                    user_ids.update(_ids(value))
                elif name in ORGANIZATION_FIELDS:
                    org_ids.update(_ids(value))
                elif name == "platform" and isinstance(value, str):
                    codes.add(value)
    users = (
        {u.pk: str(u) for u in User.objects.filter(pk__in=user_ids).only("pk", "username", "display_name")}
        if user_ids
        else {}
    )
    organizations = (
        dict(Organization.objects.filter(pk__in=org_ids).values_list("pk", "name"))
        if org_ids
        else {}
    )
    render = _Renderer(users, organizations, _platform_names(filings, codes) if codes else {})
    result: dict[int, list[Change]] = {}
    for f in filings:
        before, after = f.before or {}, f.after or {}
        rows = []
        for name in dict.fromkeys([*before, *after]):
            old, new = before.get(name), after.get(name)
            rows.append(
                Change(
                    field=name,
                    label=field_label(name),
                    before=render.value(name, old),
                    after=render.value(name, new),
                    # An opening has no before: every value is new.
                    changed=f.before is None or old != new,
                )
            )
        result[f.pk] = rows
    return result
