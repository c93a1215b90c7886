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
    # Remove ledger import stages (uploads and dry-run reports) older than two days.
    "registry-ledger-import-purge": {
        "task": "registry.ledger_import_purge",
        "schedule": crontab(hour=4, minute=15),
    },
    # Monthly archive (rule 26): daily at 01:30; on the first working day of a month it
    # packages last month per organization (idempotent; a correction makes a new version).
    "assessment-monthly-archive": {
        "task": "assessment.monthly_archive",
        "schedule": crontab(hour=1, minute=30),
    },
}
