"""Communication indices (WCI for WeChat, BCI for Weibo) from the daily metric
snapshots: values of a hand-computed example, one query whatever the number of
accounts, shown beside the score (never in it), scoped; the likes/forwards
engagement sources read the same snapshots and still need the rubric's opt-in."""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from assessment import indices
from assessment.models import AccountScore, ScoreLine
from assessment.services import rubrics
from assessment.services.scoring import score_run_request
from common.errors import ApplicationError
from supervision.services import activity
from tests.assessment.helpers import fresh, period_of_year, this_year
from tests.moderation.factories import make_account

pytestmark = pytest.mark.django_db
_n = itertools.count(1)


def snapshots(account, days: dict[date, dict]):
    """Daily figures for `account` through the collectors' service."""
    rows = [
        {
            "account": account.pk,
            "day": day.isoformat(),
            "followers": 1000,
            **{k: 0 for k in ("posts", "reads", "reposts", "comments", "likes")},
            **figures,
        }
        for day, figures in days.items()
    ]
    report = activity.metrics_ingest(actor=None, rows=rows)
    assert all(r["status"] in ("created", "updated") for r in report["rows"]), report


def _days():
    end = timezone.localdate() - timedelta(days=1)
    return end - timedelta(days=2), end  # a 3-day period


def test_indices_match_a_hand_computed_example(world):
    ns = world.mine
    start, end = _days()
    wechat = make_account(ns.city_dept, "wechat_service")
    weibo = make_account(ns.city_dept, "weibo")
    silent = make_account(ns.city_dept, "wechat_subscription")
    douyin = make_account(ns.city_dept, "douyin")
    # WeChat: 2 articles over a 3-day period (nothing on the third day).
    snapshots(
        wechat,
        {
            start: {"posts": 1, "reads": 1000, "likes": 20, "reposts": 5},
            start + timedelta(days=1): {
                "posts": 1,
                "reads": 3000,
                "likes": 40,
                "reposts": 15,
            },
        },
    )
    # Weibo: totals 10 posts, 100 reposts, 50 comments, 200 likes.
    snapshots(
        weibo,
        {
            start: {"posts": 4, "reposts": 30, "comments": 20, "likes": 50},
            end: {"posts": 6, "reposts": 70, "comments": 30, "likes": 150},
        },
    )
    snapshots(douyin, {start: {"posts": 3, "reads": 9000, "likes": 900}})
    # Outside the period: not counted.
    snapshots(wechat, {start - timedelta(days=1): {"posts": 5, "reads": 99999}})
    found = indices.account_indices(
        [wechat.pk, weibo.pk, silent.pk, douyin.pk], start, end
    )
    # d = 3, n = 2, R = 4000, L = 60, RE = 20, Rmax = 3000, Lmax = 40, REmax = 15:
    # O = .70 ln(4000/3+1) + .06 ln(10*60/3+1) + .15 ln(10*20/3+1) = 5.98772
    # A = .70 ln(4000/2+1) + .06 ln(10*60/2+1) + .15 ln(10*20/2+1) = 6.35568
    # P = .70 ln(3001) + .06 ln(401) + .15 ln(151)                  = 6.71692
    # WCI = (0.6 O + 0.2 A + 0.1 O + 0.1 P)^2 x 1.2 x 10            = 451.55
    assert found[wechat.pk].kind == "wci" and found[wechat.pk].value == 451.55
    assert found[wechat.pk].days == 2
    # W1 = ln(11) = 2.39790; W2 = .4 ln(101) + .4 ln(51) + .2 ln(201) = 4.47944
    # BCI = (0.2 W1 + 0.8 W2) x 160 = 650.10
    assert found[weibo.pk].kind == "bci" and found[weibo.pk].value == 650.10
    # No snapshots: no index (not 0); other platforms: none.
    assert silent.pk not in found and douyin.pk not in found
    # The organization: the mean per kind, with the number of accounts.
    other_wechat = make_account(ns.city_dept, "wechat_subscription")
    snapshots(other_wechat, {start: {}})  # all zero: WCI 0
    orgs = indices.organization_indices(
        [wechat.pk, weibo.pk, other_wechat.pk, silent.pk], start, end
    )
    org = orgs[ns.city_dept.pk]
    assert (org.wci, org.wci_accounts) == (225.78, 2)  # (451.55 + 0) / 2, rounded
    assert (org.bci, org.bci_accounts) == (650.10, 1)


def test_one_query_whatever_the_number_of_accounts(world, django_assert_num_queries):
    ns = world.mine
    start, end = _days()

    def accounts(count):
        made = []
        for i in range(count):
            account = make_account(
                ns.county_dept, "weibo" if i % 2 else "wechat_service"
            )
            snapshots(account, {start: {"posts": 1 + i, "reads": 100 * i, "likes": i}})
            made.append(account.pk)
        return made

    few = accounts(2)
    with django_assert_num_queries(1):
        assert len(indices.account_indices(few, start, end)) == 2
    many = few + accounts(10)
    with django_assert_num_queries(1):
        assert len(indices.account_indices(many, start, end)) == 12
    with django_assert_num_queries(1):
        assert len(indices.organization_indices(many, start, end)) == 1


def _scored_run(ns, accounts_with_figures):
    supervisor = ns.users[Role.SUPERVISOR]
    rubric = rubrics.rubric_create_default(
        organization=ns.province, year=this_year(), actor=supervisor
    )
    rubrics.rubric_activate(rubric=rubric, actor=supervisor)
    start, end = period_of_year()
    return score_run_request(
        organization=ns.province,
        period_start=start,
        period_end=end,
        actor=supervisor,
        run_now=True,
    )


def _page_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_shown_beside_the_score_never_in_it_with_constant_queries(world):
    ns = world.mine
    day = timezone.localdate()
    made = []

    def add(count):
        for i in range(count):
            account = fresh(
                make_account(ns.city_dept, "wechat_service" if i % 2 else "weibo")
            )
            snapshots(
                account,
                {
                    day: {
                        "posts": 2,
                        "reads": 500 + i,
                        "likes": 10,
                        "reposts": 3,
                        "comments": 4,
                    }
                },
            )
            made.append(account)

    add(2)
    run = _scored_run(ns, made)
    supervisor = Client()
    supervisor.force_login(ns.users[Role.SUPERVISOR])
    url = f"/assessment/runs/{run.pk}/"
    page = supervisor.get(url).content.decode()
    first = AccountScore.objects.filter(run=run, account=made[0]).get()
    expected = indices.account_indices([made[0].pk], run.period_start, run.period_end)
    assert f"BCI {expected[made[0].pk].value:.2f}" in page
    # Not part of the score: the same score lines and total with or without them.
    assert not ScoreLine.objects.filter(
        run=run, item_code__in=["likes", "forwards"]
    ).exists()
    api = supervisor.get(f"/api/v1/account-scores/?run={run.pk}").json()["results"]
    row = next(r for r in api if r["id"] == first.pk)
    assert row["communication_index"]["kind"] == "bci"
    assert row["communication_index"]["value"] == expected[made[0].pk].value
    assert row["total"] == str(first.total)
    orgs = supervisor.get(f"/api/v1/org-scores/?run={run.pk}").json()["results"]
    dept = next(r for r in orgs if r["organization"] == ns.city_dept.pk)
    assert dept["communication_index"]["wci_accounts"] == 1
    assert dept["communication_index"]["bci_accounts"] == 1
    detail = supervisor.get(f"/assessment/scores/{first.pk}/").content.decode()
    assert f"BCI {expected[made[0].pk].value:.2f}" in detail
    before = (
        _page_queries(supervisor, url),
        _page_queries(supervisor, f"/api/v1/account-scores/?run={run.pk}"),
        _page_queries(supervisor, f"/api/v1/org-scores/?run={run.pk}"),
    )
    add(6)
    run = _scored_run(ns, made)
    url = f"/assessment/runs/{run.pk}/"
    after = (
        _page_queries(supervisor, url),
        _page_queries(supervisor, f"/api/v1/account-scores/?run={run.pk}"),
        _page_queries(supervisor, f"/api/v1/org-scores/?run={run.pk}"),
    )
    assert before == after


def test_another_organization_sees_no_index(world):
    ns, other = world.mine, world.other
    account = fresh(make_account(ns.city_dept, "weibo"))
    snapshots(account, {timezone.localdate(): {"posts": 1, "reposts": 5}})
    run = _scored_run(ns, [account])
    score = AccountScore.objects.get(run=run, account=account)
    foreign = Client()
    foreign.force_login(other.users[Role.SUPERVISOR])
    assert foreign.get(f"/assessment/runs/{run.pk}/").status_code == 404
    assert foreign.get(f"/assessment/scores/{score.pk}/").status_code == 404
    assert foreign.get(f"/api/v1/account-scores/{score.pk}/").status_code == 404
    assert foreign.get(f"/api/v1/account-scores/?run={run.pk}").json()["results"] == []
    assert foreign.get(f"/api/v1/org-scores/?run={run.pk}").json()["results"] == []


@pytest.mark.parametrize("source", ["likes", "forwards"])
def test_engagement_sources_read_the_snapshots_and_still_need_the_opt_in(world, source):
    ns = world.mine
    supervisor = ns.users[Role.SUPERVISOR]
    rubric = rubrics.rubric_create_default(
        organization=ns.province, year=this_year(), actor=supervisor
    )
    with pytest.raises(ApplicationError) as exc:
        rubrics.rubric_item_save(
            rubric=rubric,
            actor=supervisor,
            code=source,
            name="互动量",
            part="deduction",
            source=source,
            points="1",
            cap="5",
            params={"below": 100},
        )
    assert exc.value.code == "engagement_not_opted_in"
    rubrics.rubric_update(
        rubric=rubric,
        actor=supervisor,
        engagement_opt_in=True,
        engagement_opt_in_reason="本省试点（书面批准）",
    )
    rubrics.rubric_item_save(
        rubric=rubric,
        actor=supervisor,
        code=source,
        name="互动量",
        part="bonus",
        source=source,
        points="1",
        cap="5",
        params={"at_least": 100},
    )
    field = "likes" if source == "likes" else "reposts"
    busy = fresh(make_account(ns.city_dept, "weibo"))
    quiet = fresh(make_account(ns.city_dept, "weibo"))
    unknown = fresh(make_account(ns.city_dept, "weibo"))  # no snapshots: not judged
    today = timezone.localdate()
    snapshots(busy, {today - timedelta(days=1): {field: 60}, today: {field: 70}})
    snapshots(quiet, {today: {field: 99}})
    rubrics.rubric_activate(rubric=rubric, actor=supervisor)
    start, end = period_of_year()
    run = score_run_request(
        organization=ns.province,
        period_start=start,
        period_end=end,
        actor=supervisor,
        run_now=True,
    )
    assert source not in run.unavailable_sources
    lines = {
        line.score.account_id: line
        for line in ScoreLine.objects.filter(run=run, item_code=source).select_related(
            "score"
        )
    }
    assert set(lines) == {busy.pk}
    assert lines[busy.pk].occurrences == 1
    assert "130" in json.dumps(
        list(lines[busy.pk].evidence.values_list("label", flat=True)),
        ensure_ascii=False,
    )
    assert quiet.pk not in lines and unknown.pk not in lines


def test_api_for_any_period_is_scoped_with_constant_queries(world):
    ns, other = world.mine, world.other
    start, end = _days()
    wechat = make_account(ns.city_dept, "wechat_service")
    weibo = make_account(ns.county_dept, "weibo")
    snapshots(
        wechat,
        {
            start: {"posts": 1, "reads": 1000, "likes": 20, "reposts": 5},
            start + timedelta(days=1): {
                "posts": 1,
                "reads": 3000,
                "likes": 40,
                "reposts": 15,
            },
        },
    )
    snapshots(
        weibo, {start: {"posts": 10, "reposts": 100, "comments": 50, "likes": 200}}
    )
    foreign = make_account(other.city_dept, "weibo")
    snapshots(foreign, {start: {"posts": 1, "reposts": 1}})
    supervisor = Client()
    supervisor.force_login(ns.users[Role.SUPERVISOR])
    url = (
        f"/api/v1/communication-indices/?organization={ns.province.pk}"
        f"&from={start.isoformat()}&to={end.isoformat()}"
    )
    body = supervisor.get(url).json()
    assert body["accounts_total"] == 2
    assert [(a["account"], a["kind"], a["value"]) for a in body["accounts"]] == [
        (weibo.pk, "bci", 650.10),
        (wechat.pk, "wci", 451.55),
    ]
    orgs = {o["organization"]: o for o in body["organizations"]}
    assert (
        orgs[ns.city_dept.pk]["wci"] == 451.55 and orgs[ns.city_dept.pk]["bci"] is None
    )
    assert orgs[ns.county_dept.pk]["bci"] == 650.10
    # An operator sees their own organization's accounts only.
    operator = Client()
    operator.force_login(ns.users[Role.OPERATOR])  # works in the city department
    mine_only = operator.get(
        f"/api/v1/communication-indices/?organization={ns.city_dept.pk}"
        f"&from={start.isoformat()}&to={end.isoformat()}"
    ).json()
    assert [a["account"] for a in mine_only["accounts"]] == [wechat.pk]
    # Another organization: 404, and its accounts never show.
    outsider = Client()
    outsider.force_login(other.users[Role.SUPERVISOR])
    assert outsider.get(url).status_code == 404
    theirs = outsider.get(
        f"/api/v1/communication-indices/?from={start.isoformat()}&to={end.isoformat()}"
    ).json()
    assert [a["account"] for a in theirs["accounts"]] == [foreign.pk]
    # Bad input: a clear 400.
    r = supervisor.get("/api/v1/communication-indices/?from=2025-13-01")
    assert r.status_code == 400 and "from" in r.json()["fields"]
    # The query count does not grow with the number of accounts.
    before = _page_queries(supervisor, url)
    for i in range(6):
        account = make_account(
            ns.county_dept, "weibo" if i % 2 else "wechat_subscription"
        )
        snapshots(account, {start: {"posts": 1, "reads": 10 * i, "likes": i}})
    after = _page_queries(supervisor, url)
    assert before == after
    assert supervisor.get(url).json()["accounts_total"] == 8
