"""Benchmarks of the assessment (issue 12), run on their own:

    DATABASE_URL=postgres://.../govmedia_assessment_scale \
        .venv/bin/python -m bench.bench_assessment [--province PATH] [--big 200000]

on a synthetic dataset from `manage.py generate_scale` (see bench/README.md; a
province of about 20,000 accounts needs `--accounts 400000`). It measures, with the
machine's load average:

- score_province_year: scoring the largest synthetic province for a year with the
  national default rubric (assessment.services.scoring.compute_scores: the sources'
  set-based queries plus the rubric applied in Python), against one raw SQL statement
  computing the same totals (the baseline); the answers must match. Then the full run
  as the Celery job does it (compute and bulk-insert scores, lines, evidence).
- annual_xlsx_<n>: the auditor's workbook of a frozen run of n accounts
  (assessment.exports.write_annual_xlsx), wall time and peak memory of a child
  process (its maximum RSS), for the province's run and for a synthetic run of
  `--big` accounts (scores of every synthetic province copied into one run by
  INSERT ... SELECT: the writer reads rows, whatever their organizations).
- org_pdf: the PDF report of the province (assessment.exports.write_org_pdf).

The synthetic dataset has no flags: the first run adds one unapproved publication
(a synthetic collector report and its flag) for every 20th account of the province,
in June of the measured year, marked `syn-flag-` so they can be told apart.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal


def _setup_django(url: str | None) -> None:
    if url:
        os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _timed(fn, repeat=1):
    times, answer = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        answer = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), answer


def _ensure_flags(province, year: int) -> int:
    from django.db import connection

    with connection.cursor() as c:
        c.execute(
            "SELECT count(*) FROM moderation_publishedpost WHERE platform_post_id "
            "LIKE 'syn-flag-%%' AND org_path LIKE %s",
            [province.path + "%"],
        )
        if c.fetchone()[0]:
            return 0
        c.execute(
            """
            WITH picked AS (
              SELECT a.id, a.platform_id, a.org_path, a.organization_id,
                     row_number() OVER (ORDER BY a.id) AS n
              FROM registry_mediaaccount a
              WHERE a.org_path LIKE %s AND a.status IN ('active','rectifying','suspended')
            ), posts AS (
              INSERT INTO moderation_publishedpost (platform_id, platform_post_id,
                account_id, org_path, text, url, published_at, reported_at, match_status,
                similarity)
              SELECT platform_id, 'syn-flag-' || id, id, org_path, '合成未经审核发布', '',
                     make_timestamptz(%s, 6, 1 + (n %% 28)::int, 2, 0, 0, 'UTC'), now(),
                     'unmatched', 0
              FROM picked WHERE n %% 20 = 0
              RETURNING id, account_id, org_path
            )
            INSERT INTO moderation_flag (kind, organization_id, org_path, published_post_id,
                                         message, created_at, resolution)
            SELECT 'unapproved_publication', a.organization_id, p.org_path, p.id,
                   '合成：未经审核发布', now(), ''
            FROM posts p JOIN registry_mediaaccount a ON a.id = p.account_id
            """,
            [province.path + "%", year],
        )
        return c.rowcount


BASELINE_SQL = """
WITH acc AS (
  SELECT a.id, a.last_post_at,
         COALESCE((a.opened_on::timestamp AT TIME ZONE 'Asia/Shanghai'), a.created_at)
           AS opened
  FROM registry_mediaaccount a
  WHERE a.org_path LIKE %(root)s AND a.status IN ('active','rectifying','suspended')
    AND (a.opened_on < %(end_date)s OR (a.opened_on IS NULL AND a.created_at < %(end)s))
), reported AS (
  SELECT p.account_id, max(p.published_at) AS last
  FROM moderation_publishedpost p JOIN acc ON acc.id = p.account_id
  WHERE acc.last_post_at > %(check)s AND p.published_at <= %(check)s
  GROUP BY p.account_id
), idle AS (
  SELECT acc.id FROM acc LEFT JOIN reported r ON r.account_id = acc.id
  WHERE (acc.last_post_at IS NULL AND acc.opened < %(limit)s)
     OR (acc.last_post_at <= %(check)s AND acc.last_post_at < %(limit)s)
     OR (acc.last_post_at > %(check)s AND r.last < %(limit)s)
), flags AS (
  SELECT p.account_id, count(*) AS n FROM moderation_flag f
  JOIN moderation_publishedpost p ON p.id = f.published_post_id
  WHERE f.kind = 'unapproved_publication' AND f.org_path LIKE %(root)s
    AND p.published_at >= %(start)s AND p.published_at < %(end)s
  GROUP BY p.account_id
), filings AS (
  SELECT account_id, count(*) AS n FROM registry_filing
  WHERE org_path LIKE %(root)s AND is_late AND submitted_at >= %(start)s
    AND submitted_at < %(end)s GROUP BY account_id
), reposts AS (
  SELECT account_id, count(*) AS n FROM moderation_directivetarget
  WHERE org_path LIKE %(root)s AND due_at >= %(start)s AND due_at < %(end)s
    AND (confirmed_at > due_at OR (confirmed_at IS NULL AND due_at < %(check)s))
  GROUP BY account_id
), manual AS (
  SELECT account_id,
         bool_or(item_code = ANY(%(veto_codes)s)) AS veto,
         sum(points) FILTER (WHERE item_code = 'content_errors') AS errors,
         sum(points) FILTER (WHERE item_code = 'commendation') AS commendation,
         sum(points) FILTER (WHERE item_code = 'innovation') AS innovation
  FROM assessment_manualentry
  WHERE org_path LIKE %(root)s AND withdrawn_at IS NULL
    AND occurred_on BETWEEN %(start_date)s AND %(end_date2)s
  GROUP BY account_id
), scored AS (
  SELECT acc.id,
         (idle.id IS NOT NULL OR COALESCE(m.veto, false)) AS vetoed,
         GREATEST(0, 100
           - LEAST(COALESCE(f.n, 0) * %(p_flag)s, %(c_flag)s)
           - LEAST(COALESCE(fi.n, 0) * %(p_filing)s, %(c_filing)s)
           - LEAST(COALESCE(r.n, 0) * %(p_repost)s, %(c_repost)s)
           - LEAST(COALESCE(m.errors, 0), %(c_errors)s)) AS base,
         LEAST(COALESCE(m.commendation, 0), %(c_comm)s)
           + LEAST(COALESCE(m.innovation, 0), %(c_innov)s) AS bonus_sum
  FROM acc
  LEFT JOIN idle ON idle.id = acc.id
  LEFT JOIN flags f ON f.account_id = acc.id
  LEFT JOIN filings fi ON fi.account_id = acc.id
  LEFT JOIN reposts r ON r.account_id = acc.id
  LEFT JOIN manual m ON m.account_id = acc.id
)
SELECT count(*),
       sum(base + CASE WHEN base >= %(threshold)s THEN LEAST(bonus_sum, %(bonus_cap)s)
                       ELSE 0 END),
       sum(vetoed::int)
FROM scored
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--province", default="")
    parser.add_argument("--year", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--big", type=int, default=200_000)
    parser.add_argument(
        "--child", nargs=2, metavar=("KIND", "FREEZE_ID"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    _setup_django(args.database_url)
    if args.child:
        _child(*args.child)
        return

    from django.db import connection, transaction
    from django.utils import timezone

    from assessment.models import AccountScore, AssessmentFreeze, ScoreRun
    from assessment.services import freeze as freezing
    from assessment.services import rubrics
    from assessment.services.scoring import (
        compute_scores,
        period_bounds,
        score_run_request,
    )
    from assessment.sources import Period
    from bench.context import Context

    ctx = Context(province_path=args.province)
    province, supervisor = ctx.province, ctx.supervisor
    year = args.year or timezone.localdate().year
    print(
        f"# assessment benchmarks · {timezone.now():%Y-%m-%d %H:%M} UTC · "
        f"province {province.name} ({province.path}) · load {_load()}"
    )
    added = _ensure_flags(province, year)
    print(f"synthetic flags added: {added}")
    rubric = rubrics.rubric_for(province, year)
    if rubric is None:
        draft = rubrics.rubric_create_default(
            organization=province, year=year, actor=supervisor
        )
        rubric = rubrics.rubric_activate(rubric=draft, actor=supervisor)
    items = [i.as_snapshot() for i in rubric.items.all()]
    by = {i["code"]: i for i in items}
    start_d, end_d = date(year, 1, 1), date(year, 12, 31)
    start, end = period_bounds(start_d, end_d)
    check = Period(province.path, start, end).check_at
    days = int(by["idle_two_weeks"]["params"].get("days", 14))

    def app():
        computed = compute_scores(
            root_path=province.path,
            period_start=start_d,
            period_end=end_d,
            items=items,
            pass_mark=rubric.pass_mark,
            bonus_threshold=rubric.bonus_threshold,
            bonus_cap=rubric.bonus_cap,
        )
        rs = computed.results
        return (
            len(rs),
            sum((r.total for r in rs), Decimal("0")),
            sum(1 for r in rs if r.vetoed),
        )

    params = {
        "root": province.path + "%",
        "start": start,
        "end": end,
        "check": check,
        "limit": check - timezone.timedelta(days=days),
        "start_date": start_d,
        "end_date": timezone.localtime(end).date(),
        "end_date2": end_d,
        "veto_codes": [
            i["code"] for i in items if i["part"] == "veto" and i["source"] == "manual"
        ],
        "p_flag": Decimal(by["unapproved_publication"]["points"]),
        "c_flag": Decimal(by["unapproved_publication"]["cap"]),
        "p_filing": Decimal(by["late_filing"]["points"]),
        "c_filing": Decimal(by["late_filing"]["cap"]),
        "p_repost": Decimal(by["late_repost"]["points"]),
        "c_repost": Decimal(by["late_repost"]["cap"]),
        "c_errors": Decimal(by["content_errors"]["cap"]),
        "c_comm": Decimal(by["commendation"]["cap"]),
        "c_innov": Decimal(by["innovation"]["cap"]),
        "threshold": rubric.bonus_threshold,
        "bonus_cap": rubric.bonus_cap,
    }

    def baseline():
        with connection.cursor() as c:
            c.execute(BASELINE_SQL, params)
            n, total, vetoed = c.fetchone()
        return (n, Decimal(total or 0).quantize(Decimal("0.01")), vetoed)

    app_answer, base_answer = app(), baseline()  # warm-up
    status = (
        "ok" if app_answer == base_answer else f"MISMATCH {app_answer} vs {base_answer}"
    )
    t_app, _a = _timed(app, args.repeat)
    t_sql, _b = _timed(baseline, args.repeat)
    rows = [("score_province_year (compute)", app_answer[0], t_app, t_sql, status)]

    # The full run as the Celery job does it (compute + bulk insert), once.
    run = (
        ScoreRun.objects.filter(
            organization=province, period_start=start_d, period_end=end_d, status="done"
        )
        .order_by("-id")
        .first()
    )
    t0 = time.perf_counter()
    fresh = score_run_request(
        organization=province,
        period_start=start_d,
        period_end=end_d,
        actor=supervisor,
        run_now=True,
    )
    t_run = time.perf_counter() - t0
    rows.append(
        (
            "score_province_year (job: compute + store)",
            fresh.account_count,
            t_run,
            None,
            "ok" if fresh.status == "done" else fresh.status,
        )
    )
    run = fresh
    freeze = AssessmentFreeze.objects.filter(run=run).first()
    if freeze is None:
        AssessmentFreeze.objects.filter(
            organization=province, year=year, status="frozen"
        ).update(status="reopened")
        freeze = freezing.year_freeze(run=run, actor=supervisor)
    rows.append(_child_row(f"annual_xlsx_{run.account_count}", "xlsx", freeze.pk))
    rows.append(_child_row("org_pdf (province)", "pdf", freeze.pk))

    # The big workbook: every synthetic province's scores in one synthetic run.
    big = ScoreRun.objects.filter(rubric=rubric, error="bench-big").first()
    if big is None and args.big:
        with transaction.atomic():
            big = ScoreRun.objects.create(
                organization=province,
                org_path=province.path,
                rubric=rubric,
                period_start=start_d,
                period_end=end_d,
                status="done",
                items=items,
                error="bench-big",
                requested_by=supervisor,
            )
            with connection.cursor() as c:
                c.execute(
                    """
                    INSERT INTO assessment_accountscore (run_id, account_id, account_label,
                      platform_label, organization_id, organization_label, org_path, level,
                      vetoed, deductions, base, bonus, total, passed, rank_in_level)
                    SELECT %s, a.id, a.display_name, p.name, o.id, o.name, a.org_path,
                           o.level, a.last_post_at IS NULL, 0, 100, 0, 100,
                           a.last_post_at IS NOT NULL,
                           row_number() OVER (PARTITION BY o.level ORDER BY a.id)
                    FROM registry_mediaaccount a
                    JOIN accounts_organization o ON o.id = a.organization_id
                    JOIN registry_platform p ON p.id = a.platform_id
                    ORDER BY a.id LIMIT %s""",
                    [big.pk, args.big],
                )
            big.account_count = AccountScore.objects.filter(run=big).count()
            big.save(update_fields=["account_count"])
    if big is not None:
        big_freeze = AssessmentFreeze.objects.filter(run=big).first()
        if big_freeze is None:
            figures = freezing.year_figures(big)
            big_freeze = AssessmentFreeze.objects.create(
                organization=province,
                org_path=province.path,
                year=year + 50,
                run=big,
                checksum=freezing.run_checksum(big),
                figures=figures,
                frozen_by=supervisor,
                frozen_at=timezone.now(),
            )
        rows.append(
            _child_row(f"annual_xlsx_{big.account_count}", "xlsx", big_freeze.pk)
        )

    print(
        "\n| benchmark | rows | app (s) | raw SQL (s) | ratio | status | load after |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, n, t, base, status in rows:
        ratio = f"{t / base:.2f}x" if base else "—"
        base_s = f"{base:.3f}" if base else "—"
        print(
            f"| {name} | {n:,} | {t:.3f} | {base_s} | {ratio} | {status} | {_load()} |"
        )


def _child_row(name: str, kind: str, freeze_id: int):
    """Run one export in a child process: wall time and its peak RSS."""
    cmd = [
        sys.executable,
        "-m",
        "bench.bench_assessment",
        "--child",
        kind,
        str(freeze_id),
    ]
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    wall = time.perf_counter() - start
    if out.returncode != 0:
        return (name, 0, wall, None, "ERROR " + out.stderr[-300:])
    inner, rss_mb, size, n = out.stdout.strip().splitlines()[-1].split()
    return (
        name,
        int(n),
        float(inner),
        None,
        f"ok: peak RSS {float(rss_mb):.0f} MB, file {int(size) / 1e6:.1f} MB, "
        f"process {wall:.1f} s",
    )


def _child(kind: str, freeze_id: str) -> None:
    from assessment.exports import write_annual_xlsx, write_org_pdf
    from assessment.models import AssessmentFreeze

    freeze = AssessmentFreeze.objects.select_related("run", "organization").get(
        pk=int(freeze_id)
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"out.{kind}")
        start = time.perf_counter()
        if kind == "xlsx":
            write_annual_xlsx(freeze, path)
        else:
            write_org_pdf(freeze, freeze.organization, path)
        took = time.perf_counter() - start
        size = os.path.getsize(path)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{took:.3f} {rss_mb:.1f} {size} {freeze.run.account_count}")


if __name__ == "__main__":
    main()
