"""Celery tasks of the ledger: checking an uploaded import file with progress.

Imported by registry.apps (autodiscovery only finds `tasks.py`)."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from common.errors import ApplicationError
from registry.services import ledger_import

log = logging.getLogger(__name__)


@shared_task(
    name="registry.ledger_import_check",
    acks_late=True,
    time_limit=settings.SPREADSHEET_TASK_HARD_SECONDS,
    soft_time_limit=settings.SPREADSHEET_TASK_SOFT_SECONDS,
)
def ledger_import_check(stage_id: str, user_id: int) -> dict | None:
    """Check a staged import file; progress goes to the cache, the result to the stage.
    Returns quietly when the user or the stage is gone or already past checking.

    SECURITY: the only place an uploaded ledger file is parsed (never in a web
    request); the parse runs under a memory limit, the task under time limits."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    try:
        stage = ledger_import.stage_load(stage_id, user)
    except ApplicationError:
        return None
    if stage["state"] not in ("queued", "running"):
        return None
    try:
        stage = ledger_import.import_check(stage_id=stage_id, user=user)
    except ApplicationError as exc:
        ledger_import.import_fail(
            stage_id=stage_id, user=user, message=str(exc.message)
        )
        return None
    except SoftTimeLimitExceeded:
        ledger_import.import_fail(
            stage_id=stage_id,
            user=user,
            message=_("Checking the file took longer than %(n)d seconds; split it.")
            % {"n": settings.SPREADSHEET_TASK_SOFT_SECONDS},
        )
        return None
    except Exception:
        log.exception("ledger import check %s failed", stage_id)
        ledger_import.import_fail(
            stage_id=stage_id, user=user, message=_("The file could not be checked.")
        )
        return None
    return {"id": stage_id, "good": len(stage["good"]), "errors": len(stage["errors"])}


@shared_task(name="registry.ledger_import_purge", acks_late=True, time_limit=300)
def ledger_import_purge() -> int:
    """Remove import stages (uploaded files, dry-run reports) older than two days."""
    return ledger_import.stages_purge(older_than_hours=48)


@shared_task(
    name="registry.counterfeit_file_check",
    acks_late=True,
    time_limit=settings.SPREADSHEET_TASK_HARD_SECONDS,
    soft_time_limit=settings.SPREADSHEET_TASK_SOFT_SECONDS,
)
def counterfeit_file_check(result_id: str, user_id: int) -> None:
    """Check an uploaded list of candidate accounts (registry.counterfeit): the only
    place such a file is parsed. Quiet when the user or the file is gone."""
    from registry import counterfeit

    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    counterfeit.upload_check_run(user=user, result_id=result_id)
    return None
