"""Communication indices (传播指数): analytics shown beside the compliance score,
never part of it (DOMAIN.md rule 30; a rubric counts engagement only through the
opt-in `likes`/`forwards` sources, assessment/sources.py).

Computed from the daily metric snapshots (supervision.MetricSnapshot: per account
and day the followers, posts, reads, reposts, comments and likes of that day), for a
period of d calendar days (the end day included), in **one grouped query** over the
accounts asked for: the sums, maxima and the formulas below are evaluated by the
database (ln, power), never a query per account.

WCI (WeChat official accounts; after Gsdata/清博's WCI V14.2)
-------------------------------------------------------------
The published formula, with R reads, Z 在看 ("wow"), L likes, RE reposts (shares),
n articles, t headline articles, max the best single article::

    O = 0.70 ln(R/d + 1) + 0.09 ln(10 Z/d + 1) + 0.06 ln(10 L/d + 1) + 0.15 ln(10 RE/d + 1)
    A = the same with n in place of d
    H = the same over the headline articles (Rt/d, Zt/d, Lt/d, REt/d)
    P = 0.70 ln(Rmax + 1) + 0.09 ln(10 Zmax + 1) + 0.06 ln(10 Lmax + 1) + 0.15 ln(10 REmax + 1)
    WCI = (0.6 O + 0.2 A + 0.1 H + 0.1 P)^2 x 1.2 x 10

What the snapshots lack, and what stands in (so the weights stay as published):
- 在看 (Z) is not collected: its terms are 0;
- headline figures are not collected: H is computed over all articles, H = O
  (exact for an account that publishes one article a day);
- per-article maxima are not collected: the maxima are of the daily figures (exact
  when the account publishes one article a day, an upper bound otherwise);
- A = 0 when no article was published (n = 0).
Hence WCI = (0.7 O + 0.2 A + 0.1 P)^2 x 12.

BCI (Weibo; the 微博影响力指数 BCI as published by provincial data platforms)
------------------------------------------------------------------------------
::

    W1 (activity) = ln(posts + 1)
    W2 (spread)   = 0.4 ln(reposts + 1) + 0.4 ln(comments + 1) + 0.2 ln(likes + 1)
    BCI = (0.2 W1 + 0.8 W2) x 160

with the period's totals; it uses exactly the figures the snapshots hold.

An organization's index is the mean of its accounts' indices (WCI over its WeChat
accounts, BCI over its Weibo accounts), with the number of accounts averaged.
Accounts without any snapshot in the period have no index (shown as "—"), never 0.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Max,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Ln, NullIf, Power

WCI_PLATFORMS = ("wechat_subscription", "wechat_service")
BCI_PLATFORMS = ("weibo",)
WCI, BCI = "wci", "bci"
# The index kinds as API choices (config/settings.py names their enum in the schema).
INDEX_KINDS = [(WCI, "WCI"), (BCI, "BCI")]
FORMULA = "WCI V14.2 (adapted), BCI"


@dataclass(frozen=True)
class AccountIndex:
    account_id: int
    organization_id: int
    kind: str  # "wci" or "bci"
    value: float
    days: int  # days with a snapshot


@dataclass(frozen=True)
class OrgIndex:
    organization_id: int
    wci: float | None
    wci_accounts: int
    bci: float | None
    bci_accounts: int


def _float(name: str):
    return Cast(F(name), FloatField())


def _ln1(expr):
    """ln(expr + 1)."""
    return Ln(expr + Value(1.0))


def _per(total: str, over) -> object:
    return Coalesce(_float(total) / over, Value(0.0))


def _wci_part(reads, likes, reposts):
    return (
        Value(0.70) * _ln1(reads)
        + Value(0.06) * _ln1(Value(10.0) * likes)
        + Value(0.15) * _ln1(Value(10.0) * reposts)
    )


def _expressions(days: int) -> dict:
    d = Value(float(days))
    n = NullIf(_float("n"), Value(0.0))
    overall = _wci_part(_per("r", d), _per("l", d), _per("re", d))
    average = _wci_part(_per("r", n), _per("l", n), _per("re", n))
    peak = _wci_part(_float("r_max"), _float("l_max"), _float("re_max"))
    wci = Power(
        Value(0.7) * overall + Value(0.2) * average + Value(0.1) * peak, Value(2.0)
    ) * Value(12.0)
    w1 = _ln1(_float("n"))
    w2 = (
        Value(0.4) * _ln1(_float("re"))
        + Value(0.4) * _ln1(_float("c"))
        + Value(0.2) * _ln1(_float("l"))
    )
    bci = (Value(0.2) * w1 + Value(0.8) * w2) * Value(160.0)
    return {"wci": wci, "bci": bci}


def account_indices(account_ids, start: date, end: date) -> dict[int, AccountIndex]:
    """The index of each WeChat or Weibo account among `account_ids` (a list of ids,
    or a queryset of ids, e.g. `MediaAccount.objects.visible_to(user).values("pk")`:
    the caller scopes) over [start, end]: one query, whatever the number of
    accounts."""
    from supervision.models import MetricSnapshot

    days = (end - start).days + 1
    ids = account_ids
    formulas = _expressions(days)
    rows = (
        MetricSnapshot.objects.filter(
            account_id__in=ids,
            day__gte=start,
            day__lte=end,
            account__platform__code__in=[*WCI_PLATFORMS, *BCI_PLATFORMS],
        )
        .values("account_id", "account__organization_id", "account__platform__code")
        .annotate(
            r=Sum("reads"),
            l=Sum("likes"),
            re=Sum("reposts"),
            c=Sum("comments"),
            n=Sum("posts"),
            r_max=Max("reads"),
            l_max=Max("likes"),
            re_max=Max("reposts"),
            days=Count("id"),
        )
        .annotate(
            value=Case(
                When(account__platform__code__in=WCI_PLATFORMS, then=formulas["wci"]),
                default=formulas["bci"],
                output_field=FloatField(),
            )
        )
        .values_list(
            "account_id",
            "account__organization_id",
            "account__platform__code",
            "value",
            "days",
        )
        .order_by()
    )
    return {
        account_id: AccountIndex(
            account_id,
            org_id,
            WCI if code in WCI_PLATFORMS else BCI,
            round(value, 2),
            n_days,
        )
        for account_id, org_id, code, value, n_days in rows
    }


def organization_indices(account_ids, start: date, end: date) -> dict[int, OrgIndex]:
    """The mean WCI and BCI of each organization's accounts among `account_ids`
    (one query: the accounts' indices, averaged here)."""
    return organization_means(account_indices(account_ids, start, end))


def organization_means(found: dict[int, AccountIndex]) -> dict[int, OrgIndex]:
    """The mean WCI and BCI per organization of accounts' indices already computed."""
    sums: dict[int, dict[str, list[float]]] = defaultdict(lambda: {WCI: [], BCI: []})
    for index in found.values():
        sums[index.organization_id][index.kind].append(index.value)
    result = {}
    for org_id, kinds in sums.items():
        wci, bci = kinds[WCI], kinds[BCI]
        result[org_id] = OrgIndex(
            org_id,
            round(sum(wci) / len(wci), 2) if wci else None,
            len(wci),
            round(sum(bci) / len(bci), 2) if bci else None,
            len(bci),
        )
    return result
