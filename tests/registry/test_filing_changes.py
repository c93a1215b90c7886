"""Filings' before/after rendered for people (labels, names, choice labels, dates) on
the filing page, the account history and the API, at a constant query count; the
supervisors told when a filing leaves their queue by withdrawal; the counterfeit
check's "File it" link only for those who file."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone, translation

from accounts.models import Role
from notifications.models import Notification
from registry.changes import describe_changes
from registry.models import Filing
from registry.services import filings
from tests.factories import make_user, token_for
from tests.registry.helpers import active_account, file_open

pytestmark = pytest.mark.django_db

# One account per platform and organization (rule 2): more filings, more platforms.
OTHER_PLATFORMS = ("douyin", "toutiao", "bilibili")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _page(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _api(user) -> Client:
    token = token_for(user)
    return Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT_LANGUAGE="en")


def _change(world, account, **changes) -> Filing:
    return filings.filing_submit_change(
        actor=world.mine.users[Role.OPERATOR],
        account=account,
        changes=changes,
        event_date=timezone.localdate(),
    )


def _changed_filing(world) -> Filing:
    """Replaces the outsourced operator by a new operator, names the department head
    liaison, changes the category."""
    account = active_account(world.mine)
    head = world.mine.users[Role.DEPARTMENT_HEAD]
    newcomer = getattr(world.mine, "newcomer", None) or make_user(
        world.mine.city_dept, Role.OPERATOR, username="甲-newcomer"
    )
    world.mine.newcomer = newcomer
    return _change(
        world,
        account,
        operators=[world.mine.users[Role.OPERATOR].pk, newcomer.pk],
        liaison=head.pk,
        category="official",
    )


def _table(html: str) -> str:
    found = re.search(r'<table class="table" id="filing-changes">(.*?)</table>', html, re.S)
    assert found, "no before/after table"
    return found.group(1)


def test_describe_changes_names_people_and_labels(world):
    f = _changed_filing(world)
    operator, head = world.mine.users[Role.OPERATOR], world.mine.users[Role.DEPARTMENT_HEAD]
    outsourced, newcomer = world.mine.users[Role.OUTSOURCED_OPERATOR], world.mine.newcomer
    rows = {c.field: c for c in describe_changes([f])[f.pk]}
    ops = rows["operators"]
    assert ops.label == "Operators"
    assert ops.changed
    assert str(outsourced) in ops.before and str(newcomer) not in ops.before
    assert str(operator) in ops.after and str(newcomer) in ops.after
    assert rows["liaison"].before is None and rows["liaison"].after == str(head)
    assert rows["category"].label == "Category"
    assert (rows["category"].before, rows["category"].after) == (
        "Institutional",
        "Official in office",
    )


def test_opening_shows_organizations_platform_status_and_dates(world):
    f = file_open(world.mine)
    rows = {c.field: c for c in describe_changes([f])[f.pk]}
    assert rows["organization"].label == "Sponsoring organization"
    assert rows["organization"].after == world.mine.city_dept.name
    assert rows["supervising_organization"].after == f.supervising_organization.name
    assert rows["platform"].after == f.account.platform.name
    assert rows["status"].after == "Active"
    assert all(r.changed and r.before is None for r in rows.values())
    # dates kept as ISO strings (e.g. by an import) are shown formatted
    f.after = {"opened_on": "2025-02-08", "last_post_at": "2025-02-08T01:30:00+00:00"}
    rows = {c.field: c for c in describe_changes([f])[f.pk]}
    assert rows["opened_on"].after == "2025-02-08"
    assert rows["last_post_at"].after == "2025-02-08 09:30"  # Asia/Shanghai


def test_names_are_fetched_in_bulk(world, django_assert_num_queries):
    many = [_changed_filing(world)]
    for code in OTHER_PLATFORMS:
        account = active_account(world.mine, code=code)
        many.append(_change(world, account, liaison=world.mine.users[Role.DEPARTMENT_HEAD].pk))
    many = list(Filing.objects.filter(pk__in=[f.pk for f in many]).select_related("account__platform"))
    with django_assert_num_queries(1):  # users only: no organization in these changes
        described = describe_changes(many)
    assert len(described) == 4
    opens = list(Filing.objects.filter(kind="open").select_related("account__platform"))
    assert len(opens) >= 4
    with django_assert_num_queries(2):  # users and organizations, whatever the number
        describe_changes(opens)


def test_filing_page_shows_the_table_for_people(world):
    f = _changed_filing(world)
    html = _page(world.mine.users[Role.SUPERVISOR]).get(f"/registry/filings/{f.pk}/").content.decode()
    table = _table(html)
    head = world.mine.users[Role.DEPARTMENT_HEAD]
    assert "Operators" in table and "Liaison" in table and "Official in office" in table
    assert str(head) in table
    assert "<code>operators</code>" not in table
    assert not re.search(r"\[\d+(, \d+)*\]", table), table  # no raw id lists

    opening = file_open(world.mine, code="douyin")
    html = _page(world.mine.users[Role.SUPERVISOR]).get(f"/registry/filings/{opening.pk}/").content.decode()
    table = _table(html)
    assert world.mine.city_dept.name in table and "Sponsoring organization" in table
    assert f">{opening.organization_id}<" not in table


def test_account_history_shows_changes_at_a_constant_query_count(
    world, django_assert_max_num_queries
):
    f = _changed_filing(world)
    account = f.account
    supervisor = _page(world.mine.users[Role.SUPERVISOR])
    url = f"/registry/accounts/{account.pk}/history/"
    supervisor.get(url)  # warm per-process caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        html = supervisor.get(url).content.decode()
    assert "Operators" in html and str(world.mine.users[Role.DEPARTMENT_HEAD]) in html
    assert "Official in office" in html
    filings.filing_approve(filing=f, actor=world.mine.users[Role.SUPERVISOR])
    for category in ("institutional", "leader", "official"):  # one account, many filings
        g = _change(world, account, category=category)
        filings.filing_approve(filing=g, actor=world.mine.users[Role.SUPERVISOR])
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = supervisor.get(url).content.decode()
    assert html.count('class="change-list"') >= 5
    assert "Leader" in html


def test_api_filing_carries_changes_beside_the_raw_values(world, django_assert_max_num_queries):
    f = _changed_filing(world)
    supervisor = world.mine.users[Role.SUPERVISOR]
    body = _api(supervisor).get(f"/api/v1/filings/{f.pk}/").json()
    assert body["after"]["category"] == "official"  # the raw record stays
    changes = {c["field"]: c for c in body["changes"]}
    assert changes["category"] == {
        "field": "category",
        "label": "Category",
        "before": "Institutional",
        "after": "Official in office",
        "changed": True,
    }
    assert changes["liaison"]["after"] == str(world.mine.users[Role.DEPARTMENT_HEAD])

    client = _api(supervisor)
    client.get("/api/v1/filings/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        listed = client.get("/api/v1/filings/").json()
    assert all("changes" in r for r in listed["results"])
    for code in OTHER_PLATFORMS:
        file_open(world.mine, code=code)
    with django_assert_max_num_queries(len(few.captured_queries)):
        listed = client.get("/api/v1/filings/").json()
    assert len(listed["results"]) >= 5
    # the other province sees none of it
    assert _api(world.other.users[Role.SUPERVISOR]).get(f"/api/v1/filings/{f.pk}/").status_code == 404


# --- withdrawal tells the supervisors --------------------------------------------------------
def test_withdrawal_notifies_the_supervisors_once(world):
    operator = world.mine.users[Role.OPERATOR]
    supervisor = world.mine.users[Role.SUPERVISOR]
    f = file_open(world.mine)
    assert Notification.objects.filter(recipient=supervisor, kind="registry.filing_submitted").exists()
    filings.filing_withdraw(filing=f, actor=operator, reason="填错了")
    sent = Notification.objects.filter(kind="registry.filing_withdrawn", target_id=str(f.pk))
    # the province's and the city's supervisors had it in their queue
    assert set(sent.values_list("recipient_id", flat=True)) == {
        supervisor.pk,
        world.mine.city_supervisor.pk,
    }
    assert all(f.number in n.message for n in sent)
    assert not sent.filter(recipient=operator).exists()
    assert not Notification.objects.filter(
        kind="registry.filing_withdrawn", recipient=world.other.users[Role.SUPERVISOR]
    ).exists()
    # idempotent: the same event again adds nothing
    filings._notify_withdrawn(Filing.objects.get(pk=f.pk), operator)
    assert sent.count() == 2


def test_a_decision_does_not_send_the_withdrawal_notice(world):
    f = file_open(world.mine)
    filings.filing_approve(filing=f, actor=world.mine.users[Role.SUPERVISOR])
    assert not Notification.objects.filter(kind="registry.filing_withdrawn").exists()


# --- the counterfeit check's "File it" link ------------------------------------------------------
@pytest.fixture
def _private_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def _check_page(user) -> str:
    response = _page(user).post("/registry/counterfeit/", {"candidates": "甲一市公安局发布"})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.usefixtures("_private_cache")
def test_file_it_only_for_filers(world):
    operator_html = _check_page(world.mine.users[Role.OPERATOR])
    assert "/registry/filings/new/?" in operator_html and "File it" in operator_html
    for role in (Role.SUPERVISOR, Role.AUDITOR):
        user = world.mine.users[role]
        html = _check_page(user)
        assert "/registry/filings/new/?" not in html, role
        assert "File it" not in html, role
        assert "to file" in html, role

