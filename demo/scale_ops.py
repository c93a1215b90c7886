"""Operational volumes for the synthetic national dataset (generate_scale --operations).

On top of generate_scale's organizations and accounts, in proportion to N accounts
(at N = 200,000): 30,000 operators (users with the operator role, each running an
account), 200,000 filings (one per account; about 3 % awaiting approval, some of
them late), 150,000 posts by those operators with a revision and their review steps,
20 repost directives with 100,000 targets sharing deadlines (one Weibo directive to
5,000 targets falling due in the same minute), and two sign-ins for the benchmarks:
`syn-national` (supervisor over all synthetic provinces) and `syn-province`
(supervisor over the largest one), both with the password BENCH_PASSWORD.

SYNTHETIC, PostgreSQL only (INSERT ... SELECT over generate_series, seeded with
setseed): usernames start with `syn-`, filing numbers with `SYN-`, post titles with
合成. No audit events (like generate_scale). Messages and findings (inbox,
assessment) do not exist yet in the platform, so none are made.
"""

from __future__ import annotations

import time

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

BENCH_PASSWORD = "Bench-Password-2026"  # synthetic benchmark sign-ins only
NATIONAL_USER = "syn-national"
PROVINCE_USER = "syn-province"


def _exec(cursor, sql: str, params=()) -> int:
    cursor.execute(sql, params)
    return cursor.rowcount


def generate(*, stdout, accounts: int, seed: int, synthetic_prefix: str) -> dict:
    if connection.vendor != "postgresql":
        stdout.write("Operational volumes: skipped (PostgreSQL only).")
        return {}
    scale = accounts / 200_000
    n_operators = max(10, int(30_000 * scale))
    n_posts = max(10, int(150_000 * scale))
    n_directives = 20
    targets_each = max(5, int(5_000 * scale))
    started = time.perf_counter()
    counts: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as c:
        c.execute("SELECT setseed(%s)", [((seed % 1000) / 1000.0)])
        c.execute(
            "SELECT id, path FROM accounts_organization WHERE depth = 1 AND name LIKE %s "
            "ORDER BY path",
            [synthetic_prefix + "%"],
        )
        provinces = c.fetchall()
        if not provinces:
            stdout.write("Operational volumes: no synthetic provinces.")
            return {}
        c.execute(
            "SELECT substr(org_path, 1, 4) AS p, count(*) FROM registry_mediaaccount "
            "WHERE platform_account_id LIKE 'syn%%' GROUP BY 1 ORDER BY 2 DESC, 1 "
            "LIMIT 1"
        )
        largest_path = c.fetchone()[0]
        largest = next(pk for pk, path in provinces if path == largest_path)

        # Sign-ins for the benchmarks (national and province supervisors).
        password = make_password(BENCH_PASSWORD)
        users = {}
        for username in (NATIONAL_USER, PROVINCE_USER):
            c.execute(
                "INSERT INTO accounts_user (password, is_superuser, username, first_name, "
                "last_name, email, is_staff, is_active, date_joined, display_name, phone, "
                "must_change_password) "
                "VALUES (%s, false, %s, '', '', '', false, true, now(), %s, '', false) "
                "ON CONFLICT (username) DO UPDATE SET password = EXCLUDED.password "
                "RETURNING id",
                [password, username, "合成" + username],
            )
            users[username] = c.fetchone()[0]
        grants = [(users[NATIONAL_USER], pk) for pk, _p in provinces]
        grants.append((users[PROVINCE_USER], largest))
        for user_id, org_id in grants:
            c.execute(
                "INSERT INTO accounts_membership (role, is_active, started_on, "
                "agreement_document, created_at, user_id, organization_id) "
                "SELECT 'supervisor', true, current_date, '', now(), %s, %s "
                "WHERE NOT EXISTS (SELECT 1 FROM accounts_membership WHERE user_id = %s "
                "AND organization_id = %s AND role = 'supervisor' AND is_active)",
                [user_id, org_id, user_id, org_id],
            )
        national = users[NATIONAL_USER]

        # Operators: one user per sampled account, with the operator role where the
        # account is kept and the account's operator link.
        c.execute("DROP TABLE IF EXISTS syn_ops")
        c.execute(
            "CREATE TEMP TABLE syn_ops AS SELECT a.id AS account_id, a.organization_id, "
            "a.org_path, a.region_code, a.platform_id, row_number() OVER () AS n "
            "FROM (SELECT * FROM registry_mediaaccount WHERE platform_account_id "
            "LIKE 'syn%%' ORDER BY md5(id::text || %s) LIMIT %s) a",
            [str(seed), n_operators],
        )
        counts["operators"] = _exec(
            c,
            "INSERT INTO accounts_user (password, is_superuser, username, first_name, "
            "last_name, email, is_staff, is_active, date_joined, display_name, phone, "
            "must_change_password) "
            "SELECT '!', false, 'syn-op-' || lpad(n::text, 6, '0'), '', '', '', false, "
            "true, now(), '合成运维' || n, '', false FROM syn_ops "
            "ON CONFLICT (username) DO NOTHING",
        )
        c.execute(
            "ALTER TABLE syn_ops ADD COLUMN user_id bigint; UPDATE syn_ops o SET "
            "user_id = u.id FROM accounts_user u WHERE u.username = 'syn-op-' || "
            "lpad(o.n::text, 6, '0')"
        )
        _exec(
            c,
            "INSERT INTO accounts_membership (role, is_active, started_on, "
            "agreement_document, created_at, user_id, organization_id) SELECT "
            "'operator', true, current_date, '', now(), user_id, organization_id "
            "FROM syn_ops o WHERE NOT EXISTS (SELECT 1 FROM accounts_membership m "
            "WHERE m.user_id = o.user_id AND m.role = 'operator')",
        )
        _exec(
            c,
            "INSERT INTO registry_mediaaccount_operators (mediaaccount_id, user_id) "
            "SELECT account_id, user_id FROM syn_ops ON CONFLICT DO NOTHING",
        )

        # Filings: one per synthetic account (opening or change), decided mostly;
        # about 3 % awaiting approval (a third of those past their deadline), 1 % late.
        counts["filings"] = _exec(
            c,
            "INSERT INTO registry_filing (number, kind, status, org_path, region_code, "
            "event_date, note, warnings, announcement_url, announcement_text, "
            "submitted_at, due_at, due_provisional, is_late, decided_at, "
            "decision_reason, account_id, decided_by_id, organization_id, "
            "submitted_by_id, supervising_organization_id) "
            "SELECT 'SYN-' || a.id, CASE WHEN r < 0.7 THEN 'open' ELSE 'change' END, "
            "CASE WHEN r2 < 0.03 AND a.status <> 'pending' THEN 'submitted' "
            "WHEN r2 < 0.05 THEN 'rejected' ELSE 'approved' END, a.org_path, "
            "a.region_code, (now() - (r * 900 || ' days')::interval)::date, '', '[]', "
            "'', '', now() - (r * 900 || ' days')::interval + interval '1 day', "
            "now() - (r * 900 || ' days')::interval + CASE WHEN r2 < 0.01 THEN "
            "interval '-1 day' WHEN r2 < 0.03 AND r3 < 0.33 THEN interval '2 days' "
            "ELSE interval '8 days' END, false, r2 < 0.01, "
            "CASE WHEN r2 < 0.03 AND a.status <> 'pending' THEN NULL ELSE now() - "
            "(r * 899 || ' days')::interval END, '', a.id, NULL, a.organization_id, "
            "%s, a.supervising_organization_id FROM (SELECT *, random() AS r, "
            "random() AS r2, random() AS r3 FROM registry_mediaaccount WHERE "
            "platform_account_id LIKE 'syn%%') a ON CONFLICT DO NOTHING",
            [national],
        )

        # Posts by the operators: a revision each and their review steps.
        c.execute("DROP TABLE IF EXISTS syn_posts")
        c.execute(
            "CREATE TEMP TABLE syn_posts AS SELECT o.*, g AS k, random() AS r, "
            "now() - (random() * 365 || ' days')::interval AS at FROM syn_ops o, "
            "generate_series(1, %s) g",
            [max(1, round(n_posts / n_operators))],
        )
        counts["posts"] = _exec(
            c,
            "INSERT INTO moderation_post (org_path, kind, title, text, links, "
            "column_tag, importance, is_repost, repost_source, status, review_round, "
            "awaiting_role, submitted_at, approved_at, created_at, updated_at, "
            "author_id, organization_id) SELECT org_path, 'original', "
            "'合成稿件' || account_id || '-' || k, '合成正文', '[]', '', CASE WHEN "
            "r < 0.8 THEN 'general' WHEN r < 0.95 THEN 'important' ELSE 'major' END, "
            "false, '', CASE WHEN r < 0.70 THEN 'published' WHEN r < 0.80 THEN "
            "'approved' WHEN r < 0.90 THEN 'in_review' WHEN r < 0.95 THEN 'draft' "
            "ELSE 'rejected' END, 1, CASE WHEN r >= 0.80 AND r < 0.90 THEN "
            "'department_head' ELSE '' END, CASE WHEN r < 0.90 OR r >= 0.95 THEN "
            "at + interval '10 minutes' END, CASE WHEN r < 0.80 THEN at + interval "
            "'2 hours' END, at, at, user_id, organization_id FROM syn_posts",
        )
        c.execute(
            "INSERT INTO moderation_postrevision (number, title, text, links, "
            "column_tag, importance, is_repost, repost_source, account_ids, "
            "attachment_names, created_at, precheck_hits, overrides, created_by_id, "
            "post_id) SELECT 1, p.title, p.text, '[]', '', p.importance, false, '', "
            "'[]', '[]', p.created_at, '[]', '[]', p.author_id, p.id FROM "
            "moderation_post p WHERE p.title LIKE '合成稿件%%' AND "
            "p.current_revision_id IS NULL"
        )
        c.execute(
            "UPDATE moderation_post p SET current_revision_id = r.id FROM "
            "moderation_postrevision r WHERE r.post_id = p.id AND "
            "p.current_revision_id IS NULL AND p.title LIKE '合成稿件%%'"
        )
        c.execute(
            "INSERT INTO moderation_post_target_accounts (post_id, mediaaccount_id) "
            "SELECT p.id, o.account_id FROM moderation_post p JOIN syn_ops o ON "
            "o.user_id = p.author_id WHERE p.title LIKE '合成稿件%%' ON CONFLICT DO "
            "NOTHING"
        )
        counts["review_steps"] = _exec(
            c,
            "INSERT INTO moderation_reviewstep (round, \"order\", role, status, "
            "decided_at, comment, decided_by_id, post_id, revision_id) SELECT 1, "
            "s.o, s.role, CASE WHEN p.status IN ('published', 'approved') THEN "
            "'approved' WHEN p.status = 'rejected' AND s.o = 1 THEN 'rejected' ELSE "
            "'pending' END, CASE WHEN p.status IN ('published', 'approved') THEN "
            "p.approved_at END, '', NULL, p.id, p.current_revision_id FROM "
            "moderation_post p CROSS JOIN (VALUES (1, 'department_head'), (2, "
            "'confidentiality_reviewer')) s(o, role) WHERE p.title LIKE '合成稿件%%' "
            "AND p.status <> 'draft' AND NOT EXISTS (SELECT 1 FROM "
            "moderation_reviewstep x WHERE x.post_id = p.id)",
        )

        # Repost directives: from the national supervisor, each to `targets_each`
        # accounts of one province (Weibo first); the first falls due for all its
        # targets in the same minute (the sweep benchmark's case), half of the
        # others' targets are confirmed, the rest overdue.
        c.execute("SELECT id FROM registry_platform WHERE code = 'weibo'")
        weibo = c.fetchone()[0]
        made = 0
        directive_ids = []
        for i in range(n_directives):
            org_id, path = provinces[i % len(provinces)] if i else (largest, largest_path)
            c.execute(
                "INSERT INTO moderation_repostdirective (org_path, title, source_url, "
                "note, selection, issued_at, target_count, issued_by_id, "
                "organization_id, deadline_rules) VALUES (%s, %s, "
                "'https://www.gov.cn/syn', '', '{}', now() - interval '1 day' * %s, "
                "0, %s, %s, '{}') RETURNING id",
                [path, f"合成转发任务{i + 1:02d}", i, national, org_id],
            )
            directive = c.fetchone()[0]
            made += _exec(
                c,
                "INSERT INTO moderation_directivetarget (org_path, due_at, warn_at, "
                "provisional, confirmed_at, repost_url, warned_at, overdue_at, "
                "account_id, confirmed_by_id, organization_id, platform_id, "
                "directive_id) SELECT a.org_path, d.due, d.due - interval '15 minutes', "
                "false, CASE WHEN %s > 0 AND a.r < 0.5 THEN d.due - interval "
                "'20 minutes' END, CASE WHEN %s > 0 AND a.r < 0.5 THEN "
                "'https://weibo.com/syn/' || a.id ELSE '' END, NULL, CASE WHEN %s > 0 "
                "AND a.r >= 0.5 THEN d.due END, a.id, NULL, a.organization_id, "
                "a.platform_id, %s FROM (SELECT m.*, random() AS r FROM "
                "registry_mediaaccount m WHERE m.org_path LIKE %s AND m.status = "
                "'active' ORDER BY (m.platform_id = %s) DESC, md5(m.id::text) LIMIT %s) "
                "a, (SELECT CASE WHEN %s > 0 THEN now() - interval '1 day' * %s ELSE "
                "date_trunc('minute', now()) + interval '1 day' END AS due) d "
                "ON CONFLICT DO NOTHING",
                [i, i, i, directive, path + "%", weibo, targets_each, i, i],
            )
            directive_ids.append(directive)
        # The stored counters (target, confirmed, late, overdue), as the services
        # keep them.
        from moderation.services.directives import (
            directive_counters_refresh,
            directive_reach_build,
        )

        directive_counters_refresh(directive_ids)
        directive_reach_build(directive_ids)
        counts["directives"] = n_directives
        counts["targets"] = made
        c.execute("DROP TABLE syn_ops; DROP TABLE syn_posts")
    # VACUUM cannot run inside a transaction (a test's): ANALYZE can.
    vacuum = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
    with connection.cursor() as c:
        for table in (
            "accounts_user", "accounts_membership", "registry_filing", "moderation_post",
            "moderation_postrevision", "moderation_reviewstep",
            "moderation_repostdirective", "moderation_directivetarget",
            "registry_mediaaccount_operators",
        ):
            c.execute(f"{vacuum} {table}")
    stdout.write(
        "Operational volumes: "
        + ", ".join(f"{v} {k}" for k, v in counts.items())
        + f" in {time.perf_counter() - started:.1f} s; sign-ins {NATIONAL_USER} "
        f"(all synthetic provinces) and {PROVINCE_USER} (the largest), password "
        f"{BENCH_PASSWORD}."
    )
    return counts


def clear() -> None:
    """Remove the operational volumes (raw DELETEs: the collector is far too slow for
    10^5 rows). Called by generate_scale --clear before the organizations go."""
    if connection.vendor != "postgresql":
        return
    with transaction.atomic(), connection.cursor() as c:
        for table in ("moderation_directivetarget", "moderation_directivereach"):
            c.execute(
                f"DELETE FROM {table} WHERE directive_id IN (SELECT id "
                "FROM moderation_repostdirective WHERE title LIKE '合成转发任务%%')"
            )
        c.execute("DELETE FROM moderation_repostdirective WHERE title LIKE '合成转发任务%%'")
        posts = "SELECT id FROM moderation_post WHERE title LIKE '合成稿件%%'"
        c.execute(f"DELETE FROM moderation_reviewstep WHERE post_id IN ({posts})")
        c.execute(
            f"DELETE FROM moderation_post_target_accounts WHERE post_id IN ({posts})"
        )
        c.execute(
            "UPDATE moderation_post SET current_revision_id = NULL WHERE title LIKE "
            "'合成稿件%%'"
        )
        c.execute(f"DELETE FROM moderation_postrevision WHERE post_id IN ({posts})")
        c.execute("DELETE FROM moderation_post WHERE title LIKE '合成稿件%%'")
        c.execute("DELETE FROM registry_filing WHERE number LIKE 'SYN-%%'")
        users = "SELECT id FROM accounts_user WHERE username LIKE 'syn-%%'"
        c.execute(
            f"DELETE FROM registry_mediaaccount_operators WHERE user_id IN ({users})"
        )
        c.execute(f"DELETE FROM accounts_membership WHERE user_id IN ({users})")
        c.execute(f"DELETE FROM notifications_notification WHERE recipient_id IN ({users})")
        c.execute("DELETE FROM accounts_user WHERE username LIKE 'syn-%%'")
