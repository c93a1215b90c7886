"""Every periodic task of the platform, declared here and only here."""

from celery.schedules import crontab

CELERY_BEAT_SCHEDULE = {
    # Walk the audit hash chain nightly and log the first broken link, if any.
    "audit-verify-chain": {
        "task": "audit.verify_chain",
        "schedule": crontab(hour=2, minute=30),
    },
    # Worker heartbeat: the worker that runs it records the time; /healthz reports a
    # worker that has not consumed the queue for three minutes.
    "common-worker-heartbeat": {
        "task": "common.worker_heartbeat",
        "schedule": crontab(),  # every minute
    },
    # Anchor the audit chain's head outside the database (append-only file), so a
    # chain recomputed with database access is detected by verify_audit.
    "audit-anchor-head": {
        "task": "audit.anchor_head",
        "schedule": crontab(minute="*/10"),
    },
    # Recompute open deadlines after calendar edits (cheap no-op when nothing changed).
    "workcalendar-refresh-provisional": {
        "task": "workcalendar.refresh_years",
        "schedule": crontab(hour=3, minute=0),
    },
    # Repost directives: mark targets due soon / overdue and notify operators, then
    # supervisors (set-based and idempotent; see moderation.services.directives).
    "moderation-sweep-reposts": {
        "task": "moderation.sweep_reposts",
        "schedule": crontab(),  # every minute
    },
    # Posts in review or approved whose scheduled publication time passed unpublished:
    # mark their approvals expired, audit and notify the authors (set-based, idempotent).
    "moderation-expire-approvals": {
        "task": "moderation.expire_approvals",
        "schedule": crontab(minute="*/5"),
    },
    # Filings awaiting approval past their due date escalate to the supervisors one
    # level up (分级备案; one UPDATE, one notification per organization, idempotent).
    "registry-escalate-overdue-filings": {
        "task": "registry.escalate_overdue_filings",
        "schedule": crontab(minute=20),  # hourly
    },
    # Credential custody upkeep: accounts without a holder, outsourced holders and
    # rotations past due, told to each organization and its supervising level once a
    # day (three grouped queries; dedupe key per day).
    "registry-custody-upkeep": {
        "task": "registry.custody_upkeep",
        "schedule": crontab(hour=8, minute=5),
    },
    # The registry overview's figures per subtree (RegistryFigures), for the
    # dashboards of large jurisdictions: one set-based pass over accounts, filings
    # and rotations; the idle and overdue figures move with the clock, hence the
    # short interval (the overview ignores figures older than
    # REGISTRY_FIGURES_MAX_AGE_SECONDS and counts live instead).
    "registry-figures-rollup": {
        "task": "registry.figures_rollup",
        "schedule": crontab(minute="*/5"),
    },
    # Remove ledger import stages (uploads and dry-run reports) older than two days.
    "registry-ledger-import-purge": {
        "task": "registry.ledger_import_purge",
        "schedule": crontab(hour=4, minute=15),
    },
    # Long jobs whose worker died: an export with no heartbeat for
    # JOB_HEARTBEAT_STALE_SECONDS, a score run past its time limit, become failed
    # with a clear error (set-based, idempotent).
    "exportjobs-reap-lost": {
        "task": "exportjobs.reap_lost",
        "schedule": crontab(minute="*/2"),
    },
    "assessment-reap-lost-runs": {
        "task": "assessment.reap_lost_runs",
        "schedule": crontab(minute="*/5"),
    },
    # Export jobs: remove files past their expiry (and jobs stuck for two days).
    "exportjobs-purge": {
        "task": "exportjobs.purge",
        "schedule": crontab(minute=20),  # hourly
    },
    # Citizen messages: mark due soon, breached (once), escalations to the liaison and
    # the supervisor, sign-for overdue, 3-month-unanswered, overdue issue slips; the
    # follow-up task notifies (set-based, idempotent; see inbox.services.timers).
    "inbox-sweep": {
        "task": "inbox.sweep",
        "schedule": crontab(),  # every minute
    },
    # Collector deliveries (stored, answered 202) are drained as they come (the
    # first of each second schedules a drain for its end); this catches any whose
    # drain was lost (broker down at the time).
    "inbox-drain": {
        "task": "inbox.drain_payloads",
        "schedule": crontab(),  # every minute
    },
    # WeChat customer-service sends still "sending" long after their task's time
    # limit (the worker died mid-call) fail as "result unknown" for the handler to
    # check; never resent automatically (at most once; inbox.services.wechat_send).
    "inbox-wechat-sends-reap": {
        "task": "inbox.wechat_sends_reap",
        "schedule": crontab(minute="*/5"),
    },
    # Supervision: every automatic finding kind (idle and its warning and clean-up
    # list, cancelled accounts posting, staffing, verification, overdue reposts,
    # unapproved publications, organizations without an account, event timers);
    # set-based, idempotent, under a lock; the roll-up follows after commit.
    "supervision-sweep-findings": {
        "task": "supervision.sweep_findings",
        "schedule": crontab(hour=1, minute=10),
    },
    # Public-opinion event timers (5 h / 24 h / 48 h) need minutes, not a day.
    "supervision-sweep-event-timers": {
        "task": "supervision.sweep_findings",
        "schedule": crontab(minute="*/5"),
        "kwargs": {"kinds": ["event_silence"]},
    },
    # Rectification orders past their deadline: mark once, escalate, notify.
    "supervision-sweep-orders": {
        "task": "supervision.sweep_orders",
        "schedule": crontab(minute="*/15"),
    },
    # The dashboard's roll-up of the whole tree for today (also after each sweep).
    "supervision-rollup-today": {
        "task": "supervision.rollup_today",
        "schedule": crontab(hour=0, minute=20),
    },
    # Monthly partitions of activity and metric snapshots, created three months ahead.
    "supervision-partitions-ahead": {
        "task": "supervision.partitions_ahead",
        "schedule": crontab(hour=0, minute=5),
    },
    # Monthly archive (rule 26): daily at 01:30; on the first working day of a month it
    # packages last month per organization (idempotent; a correction makes a new version).
    "assessment-monthly-archive": {
        "task": "assessment.monthly_archive",
        "schedule": crontab(hour=1, minute=30),
    },
}
