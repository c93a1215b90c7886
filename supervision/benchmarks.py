"""Benchmarks of supervision (found by the bench runner through autodiscovery).

Sweeps (over every account of the dataset, 200,000 at the national scale), in their
steady state: the findings of the previous run exist, a few accounts changed since.
The setup commits one run; each timed run is rolled back, so every run starts from
the same state. Baseline: the same three statements written by hand (refresh the
open findings still seen, close those no longer seen, insert the new ones).

- sweep_idle_200k, sweep_unverified_200k, sweep_staffing_200k: one kind each.
- dashboard_province / dashboard_national: the dashboard selector for the largest
  province's supervisor and for a supervisor of every province (the national
  office's scope), against the raw reads of the same roll-up rows.
- dashboard_page_province: the page as the server renders it (charts included).
- rollup_day_national: the roll-up of the whole tree for one day (rolled back).

Heavier ones run once, with `python -m supervision.bench_heavy` (see that module).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from bench.registry import Case, benchmark


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


def _steady(kind: str) -> None:
    """Commit one sweep of `kind` (once per dataset): the steady state."""
    from supervision.models import Finding
    from supervision.services.sweeps import findings_sweep

    if not Finding.objects.filter(kind=kind).exists():
        findings_sweep(kinds=[kind])
    # The statistics of the steady state (autovacuum would have analyzed the table
    # long before the next daily sweep): without them the planner believes the
    # tens of thousands of findings just written are one row, and picks a nested
    # loop anti join that runs for minutes (seen on the staffing floor).
    if connection.vendor == "postgresql":
        with connection.cursor() as c:
            c.execute("ANALYZE supervision_finding")


def _now():
    # A fixed instant per process, so app and baseline see the same accounts.
    if not hasattr(_now, "value"):
        _now.value = timezone.now()
    return _now.value


def _sweep_case(kind: str, seen_sql: str, params_fn):
    """App: reconcile() of one detector. Baseline: the same statements in raw SQL
    over the same `seen` query (ref, account, organization, path)."""
    from supervision.services.findings import reconcile
    from supervision.services.sweeps import detectors

    _steady(kind)
    detector = next(d for d in detectors() if d.kind == kind)
    now = _now() + timedelta(minutes=1)

    def app():
        result = reconcile(
            kind=kind, seen=detector.seen(now), now=now, evidence=detector.evidence(now)
        )
        return result["opened"], result["refreshed"], result["closed"]

    def baseline():
        # The same work by hand: one full outer join of what is seen with the open
        # findings (the differences only), close by id, count what stays open,
        # insert the new with one INSERT ... SELECT, stamp the run.
        params = params_fn(now)
        with connection.cursor() as c:
            c.execute(
                "SELECT ran_at FROM supervision_sweepstamp WHERE kind = %s", [kind]
            )
            row = c.fetchone()
            previous = row[0] if row else now
            c.execute("SET LOCAL work_mem = '64MB'")
            c.execute(
                f"SELECT f.id, f.origin, s.ref FROM ({seen_sql}) s FULL OUTER JOIN "
                "(SELECT id, origin, subject_ref FROM supervision_finding WHERE kind = %s "
                "AND status = 'open') f ON f.subject_ref = s.ref "
                "WHERE f.id IS NULL OR s.ref IS NULL OR f.origin <> 'sweep'",
                [*params, kind],
            )
            diff = c.fetchall()
            close = [fid for fid, origin, ref in diff if ref is None and origin == "sweep"]
            others = [fid for fid, origin, ref in diff if fid is not None and ref is not None]
            new = [ref for fid, origin, ref in diff if fid is None]
            refreshed = closed = opened = 0
            if others:
                c.execute(
                    "UPDATE supervision_finding SET last_seen_at = %s WHERE id = ANY(%s)",
                    [now, others],
                )
                refreshed = c.rowcount
            if close:
                c.execute(
                    "UPDATE supervision_finding SET status = 'closed', closed_at = %s, "
                    "close_reason = 'not_seen', last_seen_at = GREATEST(last_seen_at, %s) "
                    "WHERE id = ANY(%s)",
                    [now, previous, close],
                )
                closed = c.rowcount
            c.execute(
                "SELECT count(*) FROM supervision_finding WHERE kind = %s "
                "AND status = 'open' AND origin = 'sweep'",
                [kind],
            )
            refreshed += c.fetchone()[0]
            if new:
                c.execute(
                    f"INSERT INTO supervision_finding (kind, severity, "
                    "status, origin, subject_ref, account_id, organization_id, org_path, "
                    "evidence, note, evidence_url, evidence_file, first_seen_at, "
                    "last_seen_at, assigned_at, disposition, close_reason) SELECT %s, "
                    "'veto', 'open', 'sweep', seen.ref, seen.ref, seen.organization_id, "
                    "seen.org_path, '{}', '', '', '', %s, %s, %s, '', '' "
                    f"FROM ({seen_sql}) seen WHERE seen.ref = ANY(%s) ON CONFLICT DO NOTHING",
                    [kind, now, now, now, *params, new],
                )
                opened = c.rowcount
            c.execute(
                "INSERT INTO supervision_sweepstamp (kind, ran_at) VALUES (%s, %s) "
                "ON CONFLICT (kind) DO UPDATE SET ran_at = EXCLUDED.ran_at",
                [kind, now],
            )
        return opened, refreshed, closed

    return Case(app=rolled_back(app), baseline=rolled_back(baseline))


LIVE_SQL = "a.status IN ('active', 'rectifying')"


@benchmark(
    "sweep_idle_200k",
    budget_ms=1000,
    max_ratio=3.0,
    description="idle sweep over every account (steady state), vs raw SQL",
)
def sweep_idle(ctx):
    from registry.selectors import activity_defaults

    days = activity_defaults().idle_days  # the dataset has no per-organization policy
    sql = (
        "SELECT a.id AS ref, a.organization_id, a.org_path FROM registry_mediaaccount a "
        f"WHERE {LIVE_SQL} AND COALESCE(a.last_post_at, a.created_at) < %s"
    )
    return _sweep_case("idle", sql, lambda now: [now - timedelta(days=days)])


@benchmark(
    "sweep_unverified_200k",
    budget_ms=1000,
    max_ratio=3.0,
    description="unverified-account sweep over every account, vs raw SQL",
)
def sweep_unverified(ctx):
    sql = (
        "SELECT a.id AS ref, a.organization_id, a.org_path FROM registry_mediaaccount a "
        f"WHERE {LIVE_SQL} AND a.verification <> 'verified'"
    )
    return _sweep_case("unverified", sql, lambda now: [])


@benchmark(
    "sweep_staffing_200k",
    budget_ms=1000,
    max_ratio=3.0,
    description="staffing sweep (operators per account vs the level's minimum)",
)
def sweep_staffing(ctx):
    sql = (
        "SELECT a.id AS ref, a.organization_id, a.org_path FROM registry_mediaaccount a "
        "JOIN accounts_organization o ON o.id = a.organization_id "
        "LEFT JOIN registry_mediaaccount_operators op ON op.mediaaccount_id = a.id "
        f"WHERE {LIVE_SQL} GROUP BY a.id, a.organization_id, a.org_path, o.level "
        "HAVING count(op.id) < CASE o.level WHEN 'province' THEN 2 WHEN 'city' THEN 2 "
        "ELSE 1 END"
    )
    return _sweep_case("staffing", sql, lambda now: [])


def _ensure_rollup():
    from supervision.models import OrgDailyStat
    from supervision.services.rollups import rollup_day

    if not OrgDailyStat.objects.filter(day=timezone.localdate()).exists():
        rollup_day()


def _national_supervisor(ctx):
    """A supervisor of every province (the national office's reach)."""
    from accounts import services
    from accounts.models import Membership, Organization, Role, User

    username = "bench-national-supervisor"
    with transaction.atomic():
        user = User.objects.filter(username=username).first()
        if user is None:
            user = services.user_create(
                actor=None,
                organization=ctx.province,
                username=username,
                password="x" * 20 + "Bench1",
                display_name="Benchmark national supervisor",
            )
        held = set(
            Membership.objects.filter(
                user=user, role=Role.SUPERVISOR, is_active=True
            ).values_list("organization_id", flat=True)
        )
        for root in Organization.objects.filter(depth=1).exclude(pk__in=held):
            services.membership_grant(
                actor=None, user=user, organization=root, role=Role.SUPERVISOR
            )
    return User.objects.get(pk=user.pk)


def _dashboard_baseline(paths: list[str], child_depth: int | None, prefix: str):
    """The same rows read by hand: the roots' rows over 12 months, the children's
    rows of the latest day."""
    start = timezone.localdate() - timedelta(days=366)

    def run():
        with connection.cursor() as c:
            c.execute(
                "SELECT day, accounts_total, findings_open FROM supervision_orgdailystat "
                "WHERE path = ANY(%s) AND day >= %s",
                [paths, start],
            )
            rows = c.fetchall()
            if child_depth is None:
                return len(rows)
            c.execute(
                "SELECT o.id, o.name, s.accounts_total, s.idle_now, s.findings_veto "
                "FROM accounts_organization o LEFT JOIN supervision_orgdailystat s "
                "ON s.path = o.path AND s.day = %s WHERE o.path LIKE %s AND o.depth = %s "
                "ORDER BY o.path",
                [timezone.localdate(), prefix + "%", child_depth],
            )
            return len(rows) + len(c.fetchall())

    return run


@benchmark(
    "dashboard_province",
    budget_ms=100,
    max_ratio=5.0,
    description="dashboard selector, largest province (about 20,000 accounts)",
)
def dashboard_province(ctx):
    from supervision.selectors import dashboard

    _ensure_rollup()
    user = ctx.supervisor
    return Case(
        app=lambda: dashboard(user)["figures"]["accounts_total"],
        baseline=_dashboard_baseline(
            [ctx.province.path], ctx.province.depth + 1, ctx.province.path
        ),
        compare=False,
    )


@benchmark(
    "dashboard_national",
    budget_ms=300,
    max_ratio=5.0,
    description="dashboard selector, every province (the national scope)",
)
def dashboard_national(ctx):
    from accounts.models import Organization
    from supervision.selectors import dashboard

    _ensure_rollup()
    user = _national_supervisor(ctx)
    paths = list(Organization.objects.filter(depth=1).values_list("path", flat=True))
    return Case(
        app=lambda: dashboard(user)["figures"]["accounts_total"],
        baseline=_dashboard_baseline(paths, None, ""),
        compare=False,
    )


@benchmark(
    "dashboard_page_province",
    budget_ms=100,
    max_ratio=10.0,
    description="dashboard page over HTTP (test client), charts rendered",
)
def dashboard_page_province(ctx):
    from django.test import Client

    from supervision.selectors import dashboard

    _ensure_rollup()
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(ctx.supervisor)
    user = ctx.supervisor
    # Supervisors sign in with a second factor: the session is verified as after
    # the code page (the device made once, like the rest of the bench sign-ins).
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()

    def page():
        response = client.get("/supervision/")
        assert response.status_code == 200
        return len(response.content)

    return Case(
        app=page,
        baseline=lambda: dashboard(user)["figures"]["accounts_total"],
        compare=False,
    )


@benchmark(
    "rollup_day_national",
    budget_ms=60_000,
    max_ratio=50.0,
    description="the roll-up of the whole tree for one day (rolled back)",
)
def rollup_national(ctx):
    from supervision.services.rollups import rollup_day

    def baseline():
        with connection.cursor() as c:
            c.execute(
                "SELECT substr(org_path, 1, 4), status, count(*) FROM "
                "registry_mediaaccount GROUP BY 1, 2"
            )
            return len(c.fetchall())

    return Case(app=rolled_back(rollup_day), baseline=baseline, compare=False)
