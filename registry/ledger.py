"""The ledger (台账): scoped, filtered, sorted reads of media accounts.

One FilterSet serves the page, the API and both exports, so a filter means the same
thing everywhere. Every read starts from `MediaAccount.objects.visible_to(...)` and
filters the subtree on the denormalized `org_path` (one indexed prefix query).

Pages paginate with a bounded offset (at most MAX_PAGE pages); each page costs a
constant number of queries: the count and the rows (`ledger_page`: plain values with
the platform, organizations and operators joined; the API: `accounts_in_order`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import monotonic

import django_filters
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from accounts.scoping import Action, get_visible_or_404
from registry.models import (
    AccountCategory,
    AccountStatus,
    MediaAccount,
    Platform,
    VerificationStatus,
)

PAGE_SIZE = 50
MAX_PAGE = 2000  # bounded offset: 100,000 rows deep at most

# Statuses under which an account is expected to post (idle applies to them only).
POSTING_STATUSES = (AccountStatus.ACTIVE, AccountStatus.RECTIFYING)

SORTS = {
    "name": ("display_name", "id"),
    "-name": ("-display_name", "-id"),
    "platform": ("platform__sort_order", "display_name", "id"),
    "-platform": ("-platform__sort_order", "-display_name", "-id"),
    "status": ("status", "display_name", "id"),
    "-status": ("-status", "-display_name", "-id"),
    "followers": ("followers", "id"),
    "-followers": ("-followers", "-id"),
    "last_post": ("last_post_at", "id"),
    "-last_post": ("-last_post_at", "-id"),
    "organization": ("org_path", "id"),
    "-organization": ("-org_path", "-id"),
}
SORT_LABELS = {
    "name": _("Name"),
    "platform": _("Platform"),
    "status": _("Status"),
    "followers": _("Followers"),
    "last_post": _("Last post"),
    "organization": _("Organization"),
}
DEFAULT_SORT = "organization"


def idle_days_default() -> int:
    """The national default of days without a post after which an account counts as
    idle (DOMAIN rule 23); organizations may set their own (ActivityPolicy)."""
    return int(settings.REGISTRY_IDLE_DAYS)


def idle_q(days: int | None = None, *, kind: str = "idle") -> Q:
    """Accounts expected to post that are idle (or, `kind="cleanup"`, due for the
    clean-up list) under their organization's policy; `days` overrides the policies.
    An account that never posted counts from its opening date."""
    from registry.selectors import activity_stale_q

    return activity_stale_q(kind, days=days)


FILING_OVERDUE_HELP = _(
    "Accounts whose filing is not on record in time: a filing was submitted after its "
    "deadline; or a filing has passed its deadline still awaiting approval; or the "
    "account is recorded as pending filing with nothing filed and its opening date lies "
    "more than the filing deadline (by default 5 working days) in the past."
)


_CUTOFFS: dict[tuple[date, int], tuple[date, float]] = {}
CUTOFF_TTL = 3600.0  # seconds; a calendar edit shows within the hour


def unfiled_cutoff(today: date | None = None) -> date:
    """The latest event date whose filing deadline (the default number of working
    days, national calendar) has passed by `today`.

    Memoized per process for an hour: the walk reads the calendar once per step. A
    process-local memo rather than the shared cache, so a page's query count does
    not depend on another process clearing the cache."""
    from workcalendar.calendar import add_working_days

    today = today or timezone.localdate()
    days = int(settings.REGISTRY_FILING_DUE_WORKING_DAYS)
    key = (today, days)
    hit = _CUTOFFS.get(key)
    if hit is not None and hit[1] > monotonic():
        return hit[0]
    # The deadline lies at least `days` calendar days after the event.
    event = today - timedelta(days=days + 1)
    for _step in range(60):
        if add_working_days(event, days).date < today:
            break
        event -= timedelta(days=1)
    if len(_CUTOFFS) > 16:
        _CUTOFFS.clear()
    _CUTOFFS[key] = (event, monotonic() + CUTOFF_TTL)
    return event


def filing_overdue_q(now=None) -> Q:
    """Accounts whose filing is overdue (FILING_OVERDUE_HELP says it for users):

    - a filing of the account was submitted after its deadline (`is_late`, set by the
      filings service at submission);
    - a filing awaits approval past its deadline (`due_at`): the event is still not on
      record when it should be, whoever is holding it up;
    - the account is pending filing, nothing is filed for it (e.g. imported as not
      yet filed), and its opening date (else the day it was recorded) lies before
      `unfiled_cutoff`. The default deadline is used here: per-organization policies
      apply to submitted filings, which carry their own `due_at`.
    """
    from registry.models import Filing, FilingStatus

    now = now or timezone.now()
    # `pk IN (subquery)` rather than correlated EXISTS: inside an aggregate's FILTER
    # (the dashboard) PostgreSQL then hashes the few late/awaiting filings once
    # instead of probing per account.
    accounts_of = Filing.objects.order_by().values("account_id")
    awaiting = accounts_of.filter(status=FilingStatus.SUBMITTED)
    cutoff = unfiled_cutoff(timezone.localdate(now))
    recorded_by = datetime.combine(
        cutoff + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
    )
    unfiled = (
        Q(status=AccountStatus.PENDING)
        & ~Q(pk__in=awaiting)
        & (
            Q(opened_on__lte=cutoff)
            | Q(opened_on__isnull=True, created_at__lt=recorded_by)
        )
    )
    return (
        Q(pk__in=accounts_of.filter(is_late=True))
        | Q(pk__in=awaiting.filter(due_at__lt=now))
        | unfiled
    )


class _PlainModelChoiceIterator(forms.models.ModelChoiceIterator):
    """Reads the choices with one ordinary query (cached on the form field's own
    copy of the queryset). Django's iterator uses `.iterator()`, which on
    PostgreSQL opens a server-side cursor: DECLARE, FETCH and CLOSE, three round
    trips for a dozen platforms on every ledger page (issue 9)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


class _PlatformChoiceIterator(
    django_filters.fields.ModelChoiceIterator, _PlainModelChoiceIterator
):
    pass  # django-filter's null choice over the plain query


class _PlatformChoiceField(django_filters.fields.ModelChoiceField):
    iterator = _PlatformChoiceIterator


class _PlatformFilter(django_filters.ModelChoiceFilter):
    field_class = _PlatformChoiceField


class LedgerFilter(django_filters.FilterSet):
    """Filters of the ledger. `org` is validated against the user's scope (404)."""

    q = django_filters.CharFilter(method="filter_text", label=_("Search"))
    platform = _PlatformFilter(
        queryset=Platform.objects.all(), to_field_name="code", label=_("Platform"), empty_label=_("All")
    )
    status = django_filters.ChoiceFilter(
        choices=AccountStatus.choices, label=_("Status"), empty_label=_("All")
    )
    category = django_filters.ChoiceFilter(
        choices=AccountCategory.choices, label=_("Category"), empty_label=_("All")
    )
    verification = django_filters.ChoiceFilter(
        choices=VerificationStatus.choices, label=_("Real-name verification"), empty_label=_("All")
    )
    org = django_filters.NumberFilter(
        method="filter_org", label=_("Organization (with everything below it)")
    )
    idle = django_filters.BooleanFilter(
        method="filter_idle",
        label=_("Idle"),
        widget=forms.Select(
            choices=[("", _("All")), ("true", _("Yes")), ("false", _("No"))]
        ),
    )
    cleanup = django_filters.BooleanFilter(
        method="filter_cleanup",
        label=_("On the clean-up list"),
        widget=forms.Select(
            choices=[("", _("All")), ("true", _("Yes")), ("false", _("No"))]
        ),
    )
    idle_days = django_filters.NumberFilter(
        method="filter_noop", label=_("Idle after (days)"), min_value=1, max_value=3650
    )
    understaffed = django_filters.BooleanFilter(
        method="filter_understaffed",
        label=_("Below the staffing minimum"),
        widget=forms.Select(
            choices=[("", _("All")), ("true", _("Yes")), ("false", _("No"))]
        ),
    )
    filing_overdue = django_filters.BooleanFilter(
        method="filter_filing_overdue",
        label=_("Filing overdue"),
        help_text=FILING_OVERDUE_HELP,
        widget=forms.Select(
            choices=[("", _("All")), ("true", _("Yes")), ("false", _("No"))]
        ),
    )
    sort = django_filters.ChoiceFilter(
        method="filter_noop",
        label=_("Sort by"),
        choices=[
            (
                key,
                (
                    SORT_LABELS[key.lstrip("-")]
                    + (" ↓" if key.startswith("-") else " ↑")
                ),
            )
            for key in SORTS
        ],
        empty_label=None,
    )

    class Meta:
        model = MediaAccount
        fields: list[str] = []

    def get_form_class(self):
        """The form class, built once per process rather than per request (issue 9):
        its fields depend on the filters' declarations alone (no filter here asks the
        request for its choices; the platforms' queryset is copied, so read afresh,
        by every form). Each subclass builds its own."""
        form_class = type(self).__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            type(self)._form_class = form_class
        return form_class

    def filter_noop(self, queryset, name, value):
        return queryset  # read by `filter_queryset` / the caller

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(display_name__icontains=value)
            | Q(platform_account_id__iexact=value)
            | Q(platform_account_id__startswith=value)
        )

    def filter_org(self, queryset, name, value):
        # SECURITY: a foreign or missing organization answers 404, never an empty list
        # that would confirm it exists elsewhere.
        org = get_visible_or_404(
            Organization.objects.all(), self.request.user, Action.VIEW, pk=int(value)
        )
        return queryset.filter(org_path__startswith=org.path)

    def filter_idle(self, queryset, name, value):
        condition = idle_q(self.form.cleaned_data.get("idle_days"))
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_cleanup(self, queryset, name, value):
        condition = idle_q(kind="cleanup")
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_understaffed(self, queryset, name, value):
        from registry.services.staffing import understaffed_q, with_operator_count

        short = with_operator_count(MediaAccount.objects.all()).filter(understaffed_q())
        condition = Q(pk__in=short.values("pk"))
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_filing_overdue(self, queryset, name, value):
        condition = filing_overdue_q()
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        sort = self.form.cleaned_data.get("sort") or DEFAULT_SORT
        return queryset.order_by(*SORTS[sort])


class _ShallowCopiedFilters(dict):
    """LedgerFilter's declared filters. FilterSet.__init__ deep-copies them for each
    instance (django-filter): with their widgets and choices that was most of the
    cost of building the filter on every request (issue 9). A filter's own
    attributes are all a request sets (`parent`, `model`), and the form class, the
    one user of their widgets and choices, is built once (`get_form_class`), so a
    shallow copy of each filter is enough; a method filter is bound again to its
    copy (django-filter's FilterMethod refers to the filter it was made for)."""

    def __deepcopy__(self, memo):
        copies = {}
        for name, declared in self.items():
            filter_ = copy.copy(declared)
            if declared.method is not None:
                filter_.method = declared.method
            copies[name] = filter_
        return copies


LedgerFilter.base_filters = _ShallowCopiedFilters(LedgerFilter.base_filters)


def ledger_base(user, action: Action = Action.VIEW):
    """Accounts the user may see (or export), with what a ledger row shows joined."""
    return MediaAccount.objects.visible_to(user, action).select_related(
        "platform", "organization", "supervising_organization", "liaison"
    )


def ledger_filter(
    user, params, action: Action = Action.VIEW, request=None
) -> LedgerFilter:
    """The bound FilterSet over the user's accounts; `.qs` is filtered and sorted."""
    if request is None:
        from types import SimpleNamespace

        request = SimpleNamespace(user=user)
    return LedgerFilter(params, queryset=ledger_base(user, action), request=request)


def ledger_page(queryset, number: int, per_page: int = PAGE_SIZE):
    """One page of the ledger: (page, rows), the rows `LedgerRow`s. Two queries
    whatever the page: the count (cached for a minute when large:
    common/paging.py) and the rows of the page with the names they show and their
    operators joined (the page's ids chosen in a subquery: a narrow sort, no
    joins)."""
    from common.paging import CachedCountPaginator

    number = min(max(int(number), 1), MAX_PAGE)
    page = CachedCountPaginator(queryset.values_list("pk", flat=True), per_page).get_page(
        number
    )
    rows = ledger_rows(page.object_list)
    page.object_list = [row.pk for row in rows]  # nothing reads the ids again
    return page, rows


@dataclass(slots=True)
class LedgerRow:
    """What a row of the ledger page shows: the account's own columns and the names
    of its platform, organizations and operators, as plain values."""

    pk: int
    display_name: str
    platform_account_id: str
    platform: str
    organization: str
    supervising_organization: str
    status: str
    category: str
    verification: str
    followers: int
    last_post_at: datetime | None
    opened_on: date | None
    created_at: datetime | None
    operators: list[str] = field(default_factory=list)
    idle_days: int = 0


_ROW_COLUMNS = (
    "id", "display_name", "platform_account_id", "platform__name",
    "organization__name", "supervising_organization__name", "status", "category",
    "verification", "followers", "last_post_at", "opened_on", "created_at",
)


def ledger_rows(page_ids) -> list[LedgerRow]:
    """The rows of the accounts `page_ids` selects (an ordered, sliced, already
    scoped queryset of pks), in its order, with their operators: one query read as
    tuples, the ids a subquery of it (issue 9: building the page's 50 accounts as
    model instances with four joined ones each, plus a query for the ids and one
    for the operators, cost more than the SQL itself; the API, which serializes
    whole accounts, keeps `accounts_in_order`)."""
    # The page's own order, then the id (so an account's lines are adjacent), then
    # its operators by username: one line per operator, one for an account without.
    order = page_ids.query.order_by or ("pk",)
    found = (
        MediaAccount.objects.filter(pk__in=page_ids)
        .order_by(*order, "pk", "operators__username")
        .values_list(*_ROW_COLUMNS, "operators__username", "operators__display_name")
    )
    rows: list[LedgerRow] = []
    for *values, username, display_name in found:
        if not rows or rows[-1].pk != values[0]:
            rows.append(LedgerRow(*values))
        if username is not None:
            # str(User): the display name, else the username.
            rows[-1].operators.append(display_name or username)
    add_idle_days(rows)
    return rows


# What the API's LedgerRowSerializer shows of an account: the row loads these
# columns only, not the whole account and its four joined rows.
LEDGER_ROW_FIELDS = (
    "id", "display_name", "platform_account_id", "profile_url", "region_code",
    "category", "verification", "status", "followers", "last_post_at", "opened_on",
    "created_at", "updated_at", "organization_id", "supervising_organization_id",
    "liaison_id", "platform_id",
    "platform__id", "platform__code", "platform__name", "platform__name_en",
    "organization__id", "organization__name",
    "supervising_organization__id", "supervising_organization__name",
    "liaison__id", "liaison__username", "liaison__display_name",
)


def accounts_in_order(ids: list[int]) -> list[MediaAccount]:
    """The accounts of `ids` (already scoped and sorted by the caller), in that order,
    with what a ledger row shows: two queries, each narrow (issue 9: on the national
    dataset, building whole joined model rows and Django's prefetch machinery cost
    more than the queries themselves)."""
    rows = {
        a.pk: a
        for a in MediaAccount.objects.filter(pk__in=ids)
        .select_related("platform", "organization", "supervising_organization", "liaison")
        .only(*LEDGER_ROW_FIELDS)
    }
    User = get_user_model()
    operators: dict[int, list] = {pk: [] for pk in rows}
    through = MediaAccount.operators.through.objects.filter(mediaaccount_id__in=list(rows))
    for account_id, user_id, username, display_name in through.order_by(
        "mediaaccount_id", "user__username"
    ).values_list("mediaaccount_id", "user_id", "user__username", "user__display_name"):
        operators[account_id].append(
            User(id=user_id, username=username, display_name=display_name)
        )
    accounts = [rows[pk] for pk in ids if pk in rows]
    for account in accounts:
        # What prefetch_related would cache: `account.operators.all()` answers it.
        account._prefetched_objects_cache = {"operators": operators[account.pk]}
    add_idle_days(accounts)
    return accounts


def add_idle_days(accounts, now=None) -> None:
    """Set `idle_days` on each row: days since the last post, or since the opening
    date when the account never posted (DOMAIN rule 23)."""
    from registry.selectors import silent_days

    now = now or timezone.now()
    for account in accounts:
        account.idle_days = silent_days(account, now)


def register_navigation() -> None:
    """Menu items of the ledger sub-area (called from RegistryConfig.ready)."""
    from accounts.models import Role
    from common.navigation import NavEntry, register

    register(
        NavEntry("ledger", _("Ledger"), "registry:ledger", "registry", order=20),
        NavEntry("ledger_import", _("Import the ledger"), "registry:ledger_import",
                 "registry", action="change", roles=frozenset({Role.SUPERVISOR}), order=25),
        NavEntry("counterfeit", _("Counterfeit check"), "registry:counterfeit", "registry",
                 roles=frozenset({Role.SUPERVISOR, Role.AUDITOR}), order=30),
    )
