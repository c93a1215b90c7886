"""Benchmarks of moderation (registered with the bench runner through
moderation/benchmarks.py).

- precheck_2000_chars_50k_terms: the pre-check of a 2,000-character post against a
  50,000-term dictionary chain (the automaton cached; one version-stamp query).
  Baseline: the bare automaton scan of the same text.
- directive_issue_5000_targets: issuing a directive to 5,000 accounts (the service:
  account query, deadlines, bulk insert, audit). Baseline: one INSERT ... SELECT of
  the same rows. Both run in a transaction rolled back afterwards, so every run
  starts from the same state.
- repost_sweep_100k_open: the minute's sweep over 100,000 open targets when a
  minute's worth become due: what the sweep task does (lock, the two set-based
  UPDATEs stamping the run's marker, the follow-up registered for after commit).
  Baseline: the two raw UPDATEs. Both rolled back after each run.
- repost_sweep_100k_open_notify: the follow-up task that notifies the operators and
  supervisors of one run's marks. Baseline: the same notifications written by three
  INSERT ... SELECT statements. Both rolled back.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from bench.registry import Case, benchmark

BENCH_TITLE = "bench-moderation"
TERMS = 50_000
TARGETS_PER_DIRECTIVE = 5_000
OPEN_TARGETS = 100_000


class _Rollback(Exception):
    pass


def rolled_back(fn):
    """Run fn in a transaction that is always rolled back; return its answer."""
    def run():
        try:
            with transaction.atomic():
                answer = fn()
                raise _Rollback(answer)
        except _Rollback as done:
            return done.args[0]
    return run


def _terms(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    alphabet = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(alphabet) for _ in range(rng.randint(2, 6))))
    return sorted(words)


def _bench_dictionary(ctx):
    from moderation.models import Dictionary, Severity, TermKind
    from moderation.services import dictionaries

    d = Dictionary.objects.filter(organization=ctx.province, name=BENCH_TITLE).first()
    if d is None or d.terms.count() < TERMS:
        if d is None:
            d = dictionaries.dictionary_create(actor=ctx.supervisor, organization=ctx.province,
                                               name=BENCH_TITLE, kind=TermKind.SENSITIVE)
        words = _terms(TERMS)
        rows = [(w, "", Severity.HARD if i % 10 == 0 else Severity.SOFT)
                for i, w in enumerate(words)]
        dictionaries.terms_import(actor=ctx.supervisor, dictionary=d, rows=rows)
    return d


def _post_text(n: int = 2000, seed: int = 11) -> str:
    rng = random.Random(seed)
    words = _terms(TERMS)
    alphabet = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)] + list("，。；：")
    out = []
    while sum(len(x) for x in out) < n:
        out.append(rng.choice(words) if rng.random() < 0.02 else rng.choice(alphabet))
    return "".join(out)[:n]


def _precheck_case(ctx, max_age):
    from moderation import prechecks

    _bench_dictionary(ctx)
    org = ctx.province
    text = _post_text()
    platforms = [("weibo", "微博", 2000)]

    def app():
        hits = prechecks.run_prechecks(text=text, org_path=org.path, platforms=platforms,
                                       stamp_max_age=max_age)
        return len([h for h in hits if h.kind == "sensitive"])

    compiled = prechecks.compiled_for(org.path)

    def baseline():
        return sum(1 for _ in compiled.automaton.iter(text))

    return Case(app=app, baseline=baseline)


@benchmark("precheck_2000_chars_50k_terms", budget_ms=5, max_ratio=20.0,
           description="Live pre-check of a 2,000-character post, 50,000 terms.")
def precheck(ctx):
    """The live endpoint's path: the chain's version stamp reused for up to
    LIVE_STAMP_AGE seconds. Baseline: the bare automaton scan."""
    from moderation.prechecks import LIVE_STAMP_AGE

    return _precheck_case(ctx, LIVE_STAMP_AGE)


@benchmark("precheck_2000_chars_50k_terms_exact", budget_ms=5, max_ratio=20.0,
           description="Submission pre-check (version stamp read every time), 50,000 terms.")
def precheck_exact(ctx):
    return _precheck_case(ctx, 0.0)


def _province_accounts(ctx, limit):
    from registry.models import MediaAccount

    return list(
        MediaAccount.objects.filter(org_path__startswith=ctx.province.path, status="active")
        .order_by("id").values_list("id", flat=True)[:limit]
    )


def _orgs_for(ctx, wanted: int):
    """Organizations directly below the province whose subtrees together hold about
    `wanted` active accounts (the directive's selection by organization)."""
    from accounts.models import Organization

    children = list(Organization.objects.filter(
        path__startswith=ctx.province.path, depth=ctx.province.depth + 1).order_by("path"))
    counts = dict(ctx.rows(
        "SELECT substr(org_path, 1, %s), count(*) FROM registry_mediaaccount "
        "WHERE status = 'active' AND org_path LIKE %s GROUP BY 1",
        [len(ctx.province.path) + Organization.steplen, ctx.province.path + "%"]))
    chosen, total = [], 0
    for child in sorted(children, key=lambda c: -counts.get(c.path, 0)):
        if total >= wanted:
            break
        n = counts.get(child.path, 0)
        if n and total + n <= wanted * 1.1:
            chosen.append(child)
            total += n
    return [c.pk for c in chosen], [c.path for c in chosen]


@benchmark("directive_issue_5000_targets", budget_ms=2000, max_ratio=10.0,
           description="Issue a repost directive to 5,000 accounts (set-based).")
def directive_issue(ctx):
    from moderation.services.directives import directive_issue as issue

    org_ids, paths = _orgs_for(ctx, TARGETS_PER_DIRECTIVE)
    supervisor = ctx.supervisor

    def app():
        d = issue(actor=supervisor, organization=ctx.province, title=BENCH_TITLE,
                  source_url="https://www.gov.cn/bench", organization_ids=org_ids)
        return d.target_count

    def baseline():
        with connection.cursor() as cur:
            cur.execute(
                "INSERT INTO moderation_repostdirective (organization_id, org_path, title, "
                "source_url, note, selection, issued_by_id, issued_at, target_count, deadline_rules) "
                "VALUES (%s, %s, %s, '', '', '{}', %s, now(), 0, '{}') RETURNING id",
                [ctx.province.pk, ctx.province.path, BENCH_TITLE, supervisor.pk])
            directive_id = cur.fetchone()[0]
            cur.execute(
                "INSERT INTO moderation_directivetarget (directive_id, account_id, "
                "organization_id, org_path, platform_id, due_at, warn_at, provisional, repost_url) "
                "SELECT %s, a.id, a.organization_id, a.org_path, a.platform_id, "
                "now() + interval '1 hour', now() + interval '45 minutes', false, '' "
                "FROM registry_mediaaccount a WHERE a.status = 'active' AND "
                "a.org_path LIKE ANY(%s)",
                [directive_id, [p + "%" for p in paths]])
            return cur.rowcount

    return Case(app=rolled_back(app), baseline=rolled_back(baseline))


def _sweep_dataset(ctx, t0):
    """100,000 open targets with deadlines spread evenly over the next 24 hours
    (about 70 a minute); those whose warning time has passed are already warned, as
    earlier sweeps would have done. Rebuilt on every run (fast, set-based SQL)."""
    from moderation.models import RepostDirective

    ids = _province_accounts(ctx, TARGETS_PER_DIRECTIVE)
    directives_needed = -(-OPEN_TARGETS // len(ids))
    with transaction.atomic():
        old = RepostDirective.objects.filter(title=BENCH_TITLE)
        with connection.cursor() as cur:
            cur.execute("DELETE FROM moderation_directivetarget WHERE directive_id IN "
                        "(SELECT id FROM moderation_repostdirective WHERE title = %s)",
                        [BENCH_TITLE])
        old.delete()
        with connection.cursor() as cur:
            for k in range(directives_needed):
                cur.execute(
                    "INSERT INTO moderation_repostdirective (organization_id, org_path, title, "
                    "source_url, note, selection, issued_by_id, issued_at, target_count, deadline_rules) "
                    "VALUES (%s, %s, %s, 'https://www.gov.cn/bench', '', '{}', %s, %s, 0, '{}') "
                    "RETURNING id",
                    [ctx.province.pk, ctx.province.path, BENCH_TITLE, ctx.supervisor.pk, t0])
                directive_id = cur.fetchone()[0]
                # Offsets k, k + D, k + 2D, ... over 86,400 s: evenly spread.
                cur.execute(
                    "INSERT INTO moderation_directivetarget (directive_id, account_id, "
                    "organization_id, org_path, platform_id, due_at, warn_at, provisional, "
                    "warned_at, repost_url) "
                    "SELECT %s, a.id, a.organization_id, a.org_path, a.platform_id, d.due, "
                    "d.due - interval '15 minutes', false, "
                    "CASE WHEN d.due - interval '15 minutes' <= %s THEN %s END, '' "
                    "FROM (SELECT a.*, row_number() OVER (ORDER BY a.id) AS rn "
                    "      FROM registry_mediaaccount a WHERE a.id = ANY(%s)) a, "
                    "LATERAL (SELECT %s::timestamptz + make_interval(secs => "
                    "  ((a.rn - 1) * %s + %s) * 86400.0 / %s) AS due) d "
                    "WHERE a.rn <= %s",
                    [directive_id, t0, t0, ids, t0, directives_needed, k,
                     len(ids) * directives_needed,
                     min(len(ids), OPEN_TARGETS - k * len(ids))])
        cur_count = RepostDirective.objects.filter(title=BENCH_TITLE).count()
    # The rebuild leaves 100,000 dead rows whose index entries would be walked by
    # every scan until autovacuum came by; a steady-state table has been vacuumed.
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE moderation_directivetarget")
    return cur_count


def _raw_marks(now):
    """The baseline of the sweep: the two UPDATEs in raw SQL."""
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE moderation_directivetarget SET overdue_at = %s WHERE due_at < %s "
            "AND confirmed_at IS NULL AND overdue_at IS NULL", [now, now])
        overdue = cur.rowcount
        cur.execute(
            "UPDATE moderation_directivetarget SET warned_at = %s WHERE warn_at <= %s "
            "AND confirmed_at IS NULL AND overdue_at IS NULL AND warned_at IS NULL",
            [now, now])
        return (cur.rowcount, overdue)


@benchmark("repost_sweep_100k_open", budget_ms=50, max_ratio=3.0,
           description="The minute's repost sweep (the task's marking) over 100,000 open "
                       "targets.")
def repost_sweep(ctx):
    """What the once-a-minute task does while it holds the sweep lock: the lock, the
    two set-based UPDATEs that stamp the run's marker, and registering the
    notification task for after commit (never sent here: rolled back). The
    notifications themselves are measured by repost_sweep_100k_open_notify."""
    from moderation.models import DirectiveTarget
    from moderation.services.directives import reposts_sweep

    t0 = timezone.now().replace(microsecond=0) + timedelta(days=1)
    _sweep_dataset(ctx, t0)
    now = t0 + timedelta(seconds=60)

    def app():
        result = reposts_sweep(now)
        return (result["warned"], result["overdue"])

    explain = DirectiveTarget.objects.filter(due_at__lt=now, confirmed_at__isnull=True,
                                             overdue_at__isnull=True)
    return Case(app=rolled_back(app), baseline=rolled_back(lambda: _raw_marks(now)),
                explain=explain, expect_index="target_open_due_idx")


BENCH_OPERATORS = 500


def _bench_operators(ctx, account_ids):
    """Named operators for the benchmark's accounts (the generated dataset has none):
    BENCH_OPERATORS users, account i operated by user i mod BENCH_OPERATORS. Created
    once, kept."""
    from accounts.models import User
    from registry.models import MediaAccount

    prefix = "bench-mod-operator-"
    users = list(User.objects.filter(username__startswith=prefix).order_by("username"))
    if len(users) < BENCH_OPERATORS:
        have = {u.username for u in users}
        User.objects.bulk_create([
            User(username=f"{prefix}{i:04d}", password="!", display_name=f"operator {i}")
            for i in range(BENCH_OPERATORS) if f"{prefix}{i:04d}" not in have
        ])
        users = list(User.objects.filter(username__startswith=prefix).order_by("username"))
    through = MediaAccount.operators.through
    if not through.objects.filter(user_id=users[0].pk).exists():
        through.objects.bulk_create(
            [through(mediaaccount_id=a, user_id=users[i % len(users)].pk)
             for i, a in enumerate(account_ids)], ignore_conflicts=True)


_NOTIFY_SQL = """
INSERT INTO notifications_notification (recipient_id, organization_id, kind, message, url,
    target_type, target_id, dedupe_key, created_at)
SELECT u.id, %(org)s, %(kind)s, %(message)s, '', '', '', %(key)s, now()
FROM accounts_user u
WHERE u.is_active AND u.id IN ({who})
ON CONFLICT DO NOTHING
"""
_OPERATORS = """
    SELECT o.user_id FROM registry_mediaaccount_operators o
    WHERE o.mediaaccount_id IN (SELECT account_id FROM moderation_directivetarget t WHERE {marked})
    UNION
    SELECT m.user_id FROM accounts_membership m JOIN accounts_organization g ON g.id = m.organization_id
    WHERE m.is_active AND g.is_active AND m.role IN ('operator', 'outsourced_operator')
      AND m.organization_id IN (SELECT organization_id FROM moderation_directivetarget t WHERE {marked})
"""
_SUPERVISORS = """
    SELECT m.user_id FROM accounts_membership m JOIN accounts_organization g ON g.id = m.organization_id
    WHERE m.is_active AND g.is_active AND m.role = 'supervisor' AND m.organization_id IN (
        SELECT d.organization_id FROM moderation_repostdirective d WHERE d.id IN (
            SELECT directive_id FROM moderation_directivetarget t WHERE {marked}))
    UNION
    SELECT d.issued_by_id FROM moderation_repostdirective d WHERE d.id IN (
        SELECT directive_id FROM moderation_directivetarget t WHERE {marked})
"""


@benchmark("repost_sweep_100k_open_notify", budget_ms=100, max_ratio=3.0,
           description="The sweep's follow-up task: notify the operators and supervisors "
                       "of one run's marks.")
def repost_sweep_notify(ctx):
    """The notification step of one sweep run (a minute's worth of due-soon and
    overdue targets among 100,000 open ones, each account with a named operator).
    Baseline: three INSERT ... SELECT statements writing the same notifications."""
    from moderation.services.directives import _mark, reposts_notify_marked

    t0 = timezone.now().replace(microsecond=0) + timedelta(days=1)
    _sweep_dataset(ctx, t0)
    _bench_operators(ctx, _province_accounts(ctx, TARGETS_PER_DIRECTIVE))
    now = t0 + timedelta(seconds=60)
    with transaction.atomic():
        _mark(now)  # what the sweep committed; the follow-up reads its marker
    stamp = now.isoformat()
    overdue, due_soon = "t.overdue_at = %(now)s", "t.warned_at = %(now)s AND t.overdue_at IS NULL"

    def baseline():
        sent = 0
        with connection.cursor() as cur:
            for kind, marked, who in (
                ("moderation.repost_overdue", overdue, _OPERATORS),
                ("moderation.repost_overdue_supervisor", overdue, _SUPERVISORS),
                ("moderation.repost_due_soon", due_soon, _OPERATORS),
            ):
                cur.execute(_NOTIFY_SQL.format(who=who.format(marked=marked)), {
                    "org": ctx.province.pk, "kind": kind, "message": kind,
                    "key": f"baseline:{kind}:{stamp}", "now": now})
                sent += cur.rowcount
        return sent

    return Case(app=rolled_back(lambda: reposts_notify_marked(stamp=stamp)),
                baseline=rolled_back(baseline))
