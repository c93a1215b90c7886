"""The home workbench (common/workbench.py): cards per role with the right counts,
each linking to its filtered list, in a query count that does not grow with rows."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from accounts.models import Role
from common import workbench
from moderation.services.directives import directive_issue
from tests.moderation.factories import make_account, make_post, submit


def cards(user) -> dict:
    return {c.key: c for c in workbench.cards_for(user)}


def _page(user):
    client = Client()
    client.force_login(user)
    return client


def _fill(ns, n):
    for _ in range(n):
        make_post(ns)  # a draft by the operator
    for _ in range(n):
        submit(make_post(ns), ns)  # waiting for the department head
    make_account(ns.city_dept)
    directive_issue(actor=ns.users[Role.SUPERVISOR], organization=ns.province,
                    title="转发", source_url="https://example.cn/a",
                    issued_at=timezone.now() - timedelta(days=3))


def test_cards_per_role_count_what_waits(world):
    ns = world.mine
    _fill(ns, 2)
    op = cards(ns.users[Role.OPERATOR])
    assert op["drafts"].count == 2 and op["drafts"].url.endswith("?mine=1&status=draft")
    assert op["in_review"].count == 2
    targets = op["reposts"].count
    assert targets >= 1 and op["reposts"].state == "overdue"
    assert "review_waiting" not in op
    head = cards(ns.users[Role.DEPARTMENT_HEAD])
    assert head["review_waiting"].count == 2 and head["review_waiting"].url == "/moderation/queue/"
    sup = cards(ns.users[Role.SUPERVISOR])
    assert sup["directives_issued"].count == targets
    assert sup["directives_issued"].state == "overdue"
    assert {"filings_to_decide", "idle_accounts", "flags"} <= set(sup)
    assert "drafts" not in sup
    # the foreign province's people see none of it
    other = cards(world.other.users[Role.OPERATOR])
    assert other["drafts"].count == 0 and other["reposts"].count == 0
    assert cards(world.other.users[Role.SUPERVISOR])["directives_issued"].count == 0
    # every role lands on a workbench with at least the notifications card
    for role in Role:
        assert "notifications" in cards(ns.users[role]), role


def test_home_renders_cards_with_links(world):
    ns = world.mine
    _fill(ns, 1)
    html = _page(ns.users[Role.OPERATOR]).get("/").content.decode()
    assert 'data-card="drafts"' in html and "/moderation/posts/?mine=1&amp;status=draft" in html
    assert "wb-card status-overdue" in html


def test_home_query_count_is_constant(world, django_assert_num_queries):
    ns = world.mine
    users = [ns.users[r] for r in (Role.OPERATOR, Role.DEPARTMENT_HEAD, Role.SUPERVISOR,
                                   Role.AUDITOR)]
    _fill(ns, 1)
    counts = {}
    for user in users:
        client = _page(user)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        # Warm the per-process caches (the working-day calendar, the activity
        # policies) first: the count must not depend on the data, whatever ran before.
        assert client.get("/").status_code == 200
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/").status_code == 200
        counts[user.pk] = len(ctx)
    _fill(ns, 5)
    for user in users:
        client = _page(user)
        with django_assert_num_queries(counts[user.pk]):
            assert client.get("/").status_code == 200


# --- cards of inbox, supervision, assessment and exports (issue 13, item 1) ----------
def _supervision_and_inbox(ns, n=1):
    """`n` messages received 10 days ago (past their reply time, swept), and per
    account a veto-level finding with a 1-day rectification order, for the city
    department; made through the services."""
    from inbox.services.timers import inbox_sweep
    from supervision.services import findings, rectification
    from tests.inbox.factories import receive

    supervisor = ns.users[Role.SUPERVISOR]
    for _ in range(n):
        account = make_account(ns.city_dept)
        receive(account, at=timezone.now() - timedelta(days=10))
        finding = findings.finding_raise_manual(
            actor=supervisor, kind="security_incident", account=account,
            note="泄露内部文件", severity="veto",
        )
        rectification.order_issue(actor=supervisor, finding=finding,
                                  requirement="删除并说明", days=1)
    inbox_sweep(timezone.now())


def test_operator_supervisor_and_auditor_cards_of_the_apps_above(world):
    import time_machine

    from exportjobs.models import ExportJob, ExportState

    ns = world.mine
    _supervision_and_inbox(ns, 2)
    ExportJob.objects.create(user=ns.users[Role.AUDITOR], kind="ledger", file_format="xlsx",
                             state=ExportState.DONE, file_path="x.xlsx")
    op = cards(ns.users[Role.OPERATOR])
    assert op["messages_due"].count == 2 and op["messages_due"].state == "overdue"
    assert op["messages_due"].url == "/inbox/?view=org"
    assert op["orders_to_answer"].count == 2
    assert op["orders_to_answer"].url == "/supervision/orders/?status=to_answer"
    assert op["findings_assigned"].count == 2 and op["findings_assigned"].state == "overdue"
    assert "sla_breaches" not in op and "findings_open" not in op
    sup = cards(ns.users[Role.SUPERVISOR])
    assert sup["findings_open"].count == 2
    assert sup["sla_breaches"].count == 2 and sup["sla_breaches"].url == "/inbox/?view=breached"
    assert sup["orders_overdue"].count == 0 and sup["orders_overdue"].state == "done"
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        late = cards(ns.users[Role.SUPERVISOR])["orders_overdue"]
        assert late.count == 2 and late.state == "overdue"
        assert late.url == "/supervision/orders/?status=open&overdue=1"
        assert cards(ns.users[Role.OPERATOR])["orders_to_answer"].state == "overdue"
    aud = cards(ns.users[Role.AUDITOR])
    assert aud["assessment_years"].count == 0 and aud["assessment_years"].url == "/assessment/years/"
    assert aud["exports"].count == 1 and aud["exports"].url == "/exports/"
    assert "messages_due" not in aud and "orders_overdue" not in aud
    # The foreign province sees none of it.
    other = world.other
    assert cards(other.users[Role.SUPERVISOR])["findings_open"].count == 0
    assert cards(other.users[Role.SUPERVISOR])["sla_breaches"].count == 0
    assert cards(other.users[Role.OPERATOR])["messages_due"].count == 0
    assert cards(other.users[Role.OPERATOR])["orders_to_answer"].count == 0
    assert cards(other.users[Role.AUDITOR])["exports"].count == 0


def test_the_filtered_lists_behind_the_new_cards(world):
    ns = world.mine
    _supervision_and_inbox(ns, 1)
    op = _page(ns.users[Role.OPERATOR])
    orders = op.get("/supervision/orders/?status=to_answer")
    assert orders.status_code == 200 and orders.context["page"].paginator.count == 1
    sup = _page(ns.users[Role.SUPERVISOR])
    assert sup.get("/inbox/?view=breached").context["page"].paginator.count == 1
    assert sup.get("/supervision/findings/?status=open").context["page"].paginator.count == 1


def test_home_query_count_is_constant_with_the_new_cards(world, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ns = world.mine
    users = [ns.users[r] for r in (Role.OPERATOR, Role.SUPERVISOR, Role.AUDITOR)]
    _supervision_and_inbox(ns, 1)
    counts = {}
    for user in users:
        client = _page(user)
        assert client.get("/").status_code == 200
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/").status_code == 200
        counts[user.pk] = len(ctx)
    _supervision_and_inbox(ns, 4)
    for user in users:
        client = _page(user)
        assert client.get("/").status_code == 200
        with django_assert_num_queries(counts[user.pk]):
            assert client.get("/").status_code == 200
