"""Benchmarks of the inbox (registered with the bench runner).

The dataset: 1,000,000 open messages in the measured province (made once by
INSERT ... SELECT, marked with citizen handle `bench-inbox`), their reply due times
spread evenly over 30 days from the moment they were made (about 23 fall due per
minute), 100,000 of them handled by one department.

- inbox_sweep_1m_minute: the once-a-minute sweep when a minute's worth fall due
  (what the task does: lock, the set-based UPDATEs, the follow-up registered).
  Baseline: the same UPDATEs in raw SQL. Both rolled back after each run.
- inbox_sweep_1m_catchup_2h: the same after 2 hours of worker downtime (about 2,800
  rows to mark).
- inbox_list_100k: the first page of the handler's inbox ("my organization") with its
  total, for a department with 100,000 messages (the selector as the page runs it).
  Baseline: the same count and page in raw SQL.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.paginator import Paginator
from django.db import connection, transaction
from django.utils import timezone

from bench.registry import Case, benchmark

MARK = "bench-inbox"
TOTAL = 1_000_000
LIST_ORG_ROWS = 100_000
SPREAD_S = 30 * 86400


class _Rollback(Exception):
    pass


def rolled_back(fn):
    def run():
        try:
            with transaction.atomic():
                answer = fn()
                raise _Rollback(answer)
        except _Rollback as done:
            return done.args[0]
    return run


def _dataset(ctx):
    """Make the 1,000,000 messages once; returns (t0, list organization)."""
    from accounts.models import Organization

    if "inbox" in ctx._cache:
        return ctx._cache["inbox"]
    province = ctx.province
    orgs = list(Organization.objects.filter(path__startswith=province.path)
                .order_by("path").values_list("pk", "path", "region_code"))
    dept = next(o for o in orgs if o[1] != province.path)
    have = ctx.scalar("SELECT count(*) FROM inbox_message WHERE citizen_handle = %s", [MARK])
    if have != TOTAL:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("DELETE FROM inbox_messageevent WHERE message_id IN (SELECT id FROM "
                        "inbox_message WHERE citizen_handle = %s)", [MARK])
            cur.execute("DELETE FROM inbox_message WHERE citizen_handle = %s", [MARK])
            cur.execute("CREATE TEMP TABLE bench_orgs (n int, id bigint, path text, "
                        "region text) ON COMMIT DROP")
            cur.executemany("INSERT INTO bench_orgs VALUES (%s, %s, %s, %s)",
                            [(n, *o) for n, o in enumerate(orgs)])
            t0 = timezone.now()
            # Rows 0..99,999 go to one department; the rest spread over the province.
            cur.execute(
                "INSERT INTO inbox_message (organization_id, org_path, origin_organization_id,"
                " origin_path, supervising_organization_id, region_code, channel, source,"
                " platform_message_id, citizen_handle, citizen_openid, original_text, text,"
                " received_at, category, suggested_category, must_answer, status,"
                " sla_unit, sla_first_response, sla_reply, sla_warn_percent,"
                " clock_started_at, paused_seconds, extension_days, first_response_due_at,"
                " reply_due_at, due_at, warn_at, warned_at, due_provisional, accepted_at,"
                " reply_route, transfer_count, reopen_count, satisfaction, rating_token,"
                " stale_at, created_at) "
                "SELECT o.id, o.path, o.id, o.path, %(sup)s, o.region, 'weibo_comment',"
                " 'collector', '', %(mark)s, '', '请问办理需要多久？', '请问办理需要多久？',"
                " %(t0)s - interval '1 day', 'inquiry', 'inquiry', true, 'in_progress',"
                " 'working_days', 1, 5, 80, %(t0)s - interval '1 day', 0, 0,"
                " %(t0)s, d.due, d.due, d.due - interval '4 hours',"
                " CASE WHEN d.due - interval '4 hours' <= %(t0)s THEN %(t0)s END, false,"
                " %(t0)s - interval '20 hours', '', 0, 0, '', gen_random_uuid(),"
                " %(t0)s + interval '80 days', %(t0)s "
                "FROM generate_series(0, %(total)s - 1) AS g(i) "
                "CROSS JOIN LATERAL (SELECT %(t0)s + (g.i * %(step)s) * interval '1 second'"
                " AS due) d "
                "JOIN bench_orgs o ON o.n = CASE WHEN g.i %% 10 = 0 THEN %(dept_n)s"
                " ELSE 1 + (g.i %% (%(norgs)s - 1)) END",
                {"sup": province.pk, "mark": MARK, "t0": t0, "total": TOTAL,
                 "step": SPREAD_S / TOTAL, "dept_n": orgs.index(dept), "norgs": len(orgs)})
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE inbox_message")
    t0 = ctx.scalar("SELECT min(created_at) FROM inbox_message WHERE citizen_handle = %s",
                    [MARK])
    ctx._cache["inbox"] = (t0, Organization.objects.get(pk=dept[0]))
    return ctx._cache["inbox"]


_RAW = [
    "UPDATE inbox_message SET breached_at = %(now)s WHERE breached_at IS NULL AND due_at IS "
    "NOT NULL AND due_at < %(now)s",
    "UPDATE inbox_message SET warned_at = %(now)s WHERE warned_at IS NULL AND warn_at IS NOT "
    "NULL AND warn_at <= %(now)s AND breached_at IS NULL AND due_at IS NOT NULL",
    "UPDATE inbox_message SET escalated_liaison_at = %(now)s WHERE breached_at IS NOT NULL "
    "AND escalated_supervisor_at IS NULL AND escalated_liaison_at IS NULL AND due_at IS NOT "
    "NULL",
    "UPDATE inbox_message SET escalated_supervisor_at = %(now)s WHERE breached_at IS NOT NULL"
    " AND escalated_supervisor_at IS NULL AND escalated_liaison_at <= %(now)s - interval "
    "'24 hours' AND due_at IS NOT NULL",
    "UPDATE inbox_message SET sign_for_escalated_at = %(now)s WHERE signed_for_at IS NULL "
    "AND sign_for_escalated_at IS NULL AND sign_for_due_at < %(now)s",
    "UPDATE inbox_message SET stale_flagged_at = %(now)s WHERE stale_flagged_at IS NULL AND "
    "replied_at IS NULL AND stale_at < %(now)s AND category <> 'not_accepted'",
    "UPDATE inbox_issueslip SET overdue_at = %(now)s WHERE answered_at IS NULL AND "
    "overdue_at IS NULL AND due_at < %(now)s",
]


def _raw_sweep(now):
    """The same statements; outside office hours the alerts (warnings, escalations)
    are limited to clock-hour policies, as the sweep does."""
    from inbox.services.timers import in_office_hours

    office = in_office_hours(now)
    total = 0
    with connection.cursor() as cur:
        for n, sql in enumerate(_RAW):
            if n in (1, 2, 3) and not office:
                sql += " AND sla_unit = 'hours'"
            cur.execute(sql, {"now": now})
            total += cur.rowcount
    return total


def _sweep_case(ctx, after: timedelta) -> Case:
    from inbox.models import Message
    from inbox.services.timers import inbox_sweep

    t0, _org = _dataset(ctx)
    now = t0 + after

    def app():
        counts = inbox_sweep(now)
        return sum(v for k, v in counts.items() if k != "skipped")

    return Case(app=rolled_back(app), baseline=rolled_back(lambda: _raw_sweep(now)),
                explain=Message.objects.filter(breached_at__isnull=True,
                                               due_at__isnull=False, due_at__lt=now),
                expect_index="inbox_msg_breach_idx")


@benchmark("inbox_sweep_1m_minute", budget_ms=50, max_ratio=3.0,
           description="The minute's inbox sweep over 1,000,000 open messages, a "
                       "minute's worth falling due.")
def sweep_minute(ctx):
    return _sweep_case(ctx, timedelta(minutes=1))


@benchmark("inbox_sweep_1m_catchup_2h", budget_ms=2000, max_ratio=3.0,
           description="The inbox sweep catching up after 2 hours of worker downtime "
                       "(1,000,000 open messages).")
def sweep_catchup(ctx):
    return _sweep_case(ctx, timedelta(hours=2))


def _operator(org):
    from accounts import services
    from accounts.models import Membership, Role, User

    username = "bench-inbox-operator"
    with transaction.atomic():
        user = User.objects.filter(username=username).first()
        if user is None:
            user = services.user_create(actor=None, organization=org, username=username,
                                        password="Bench-Inbox-2026-" + "x" * 8)
        if not Membership.objects.filter(user=user, organization=org,
                                         role=Role.OPERATOR, is_active=True).exists():
            services.membership_grant(actor=None, user=user, organization=org,
                                      role=Role.OPERATOR)
    return User.objects.get(pk=user.pk)


@benchmark("inbox_list_100k", budget_ms=100, max_ratio=3.0,
           description="The handler's inbox (my organization), first page of 30 and the "
                       "total, for a department with 100,000 open messages.")
def inbox_list(ctx):
    from inbox import selectors

    _t0, org = _dataset(ctx)
    user = _operator(org)

    def app():
        page = Paginator(selectors.inbox_messages(user, view="org"), 30).page(1)
        return (page.paginator.count, [m.pk for m in page.object_list])

    def baseline():
        count = ctx.scalar("SELECT count(*) FROM inbox_message WHERE organization_id = %s "
                           "AND status IN ('new','accepted','in_progress','waiting')",
                           [org.pk])
        rows = ctx.rows("SELECT m.*, o.name FROM inbox_message m JOIN accounts_organization o"
                        " ON o.id = m.organization_id WHERE m.organization_id = %s AND "
                        "m.status IN ('new','accepted','in_progress','waiting') ORDER BY "
                        "m.received_at DESC, m.id DESC LIMIT 30", [org.pk])
        return (count, [r[0] for r in rows])

    return Case(app=app, baseline=baseline,
                explain=selectors.inbox_messages(user, view="org")[:30],
                expect_index="inbox_msg_org_open_idx")
