"""Celery tasks of the inbox (periodic ones declared in config/schedule.py). Tasks
take plain values, re-read what they need and are safe to run twice."""

from celery import shared_task
from django.conf import settings
from django.utils.translation import gettext as _

from accounts.models import Role


@shared_task(name="inbox.sweep", acks_late=True, time_limit=50, soft_time_limit=45,
             ignore_result=True)
def sweep() -> dict:
    """Mark due-soon, breached, escalated, unsigned and stale messages (the
    follow-up notifies). Safe to run twice, also at once."""
    from inbox.services.timers import inbox_sweep

    return inbox_sweep()


@shared_task(name="inbox.sweep_follow_up", acks_late=True, time_limit=240,
             soft_time_limit=200, ignore_result=True)
def sweep_follow_up(stamp: str) -> int:
    from inbox.services.timers import sweep_notify

    return sweep_notify(stamp=stamp)


@shared_task(name="inbox.process_raw_payload", acks_late=True, time_limit=120,
             soft_time_limit=100, ignore_result=True)
def process_raw_payload(raw_id: int) -> str:
    """Turn a stored WeChat callback into a message (the callback answered at
    once). Returns quietly when the payload is gone or already processed."""
    from inbox.services.wechat import wechat_payload_process

    return wechat_payload_process(raw_id=raw_id)


@shared_task(name="inbox.drain_payloads", acks_late=True, time_limit=280,
             soft_time_limit=240, ignore_result=True)
def drain_payloads() -> dict:
    """Make the messages of queued collector deliveries (asked for by each new
    delivery, at most once a second, and every minute by beat). Safe to run
    twice at once: claimed deliveries are locked, a second drain skips them."""
    from inbox.services.ingest import payloads_drain

    return payloads_drain()


@shared_task(name="inbox.reapply_terms", acks_late=True, time_limit=600,
             soft_time_limit=540, ignore_result=True)
def reapply_terms(org_id: int) -> int:
    from accounts.models import Organization
    from inbox.services.timers import sla_terms_reapply

    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        return 0
    return sla_terms_reapply(organization=org)


@shared_task(name="inbox.notify_transferred", acks_late=True, ignore_result=True)
def notify_transferred(message_id: int, org_id: int) -> int:
    from inbox.services.handling import notify_roles

    return notify_roles(message_id=message_id, organization_id=org_id,
                        roles=[Role.LIAISON, Role.DEPARTMENT_HEAD],
                        kind="inbox.transferred",
                        text=_("A message was transferred to your organization: sign for it."),
                        dedupe=f"inbox-transferred:{message_id}:{org_id}")


@shared_task(name="inbox.notify_problem_case", acks_late=True, ignore_result=True)
def notify_problem_case(message_id: int, org_id: int) -> int:
    from inbox.services.handling import notify_roles

    return notify_roles(message_id=message_id, organization_id=org_id,
                        roles=[Role.SUPERVISOR], kind="inbox.problem_case",
                        text=_("A message was transferred or reopened three times: "
                               "it is escalated to you as a problem case."),
                        dedupe=f"inbox-problem:{message_id}")


@shared_task(name="inbox.notify_reply_pending", acks_late=True, ignore_result=True)
def notify_reply_pending(message_id: int, org_id: int, reply_id: int) -> int:
    from inbox.services.handling import notify_roles

    return notify_roles(message_id=message_id, organization_id=org_id,
                        roles=[Role.DEPARTMENT_HEAD], kind="inbox.reply_pending",
                        text=_("A reply to a citizen awaits your approval."),
                        dedupe=f"inbox-reply:{reply_id}")


@shared_task(name="inbox.messages_import_check", acks_late=True,
             time_limit=settings.SPREADSHEET_TASK_HARD_SECONDS,
             soft_time_limit=settings.SPREADSHEET_TASK_SOFT_SECONDS, ignore_result=True)
def messages_import_check(stage: str, user_id: int) -> None:
    """Check an uploaded message sheet (the dry run). SECURITY: the only place it is
    parsed (never in a web request), under memory and time limits. Returns quietly
    when the user or the stage is gone."""
    from celery.exceptions import SoftTimeLimitExceeded
    from django.contrib.auth import get_user_model

    from common.errors import ApplicationError
    from inbox.services import imports

    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    try:
        imports.import_check_run(user=user, stage=stage)
    except SoftTimeLimitExceeded:
        imports.import_fail(user=user, stage=stage, message=_(
            "Checking the file took longer than %(n)d seconds; split it.")
            % {"n": settings.SPREADSHEET_TASK_SOFT_SECONDS})
    except (ApplicationError, FileNotFoundError):
        imports.import_fail(user=user, stage=stage,
                            message=_("The file could not be checked."))


# time_limit and max_retries are wechat_send.SEND_TIME_LIMIT and
# WECHAT_SEND_MAX_RETRIES (the reaper counts on the former).
@shared_task(bind=True, name="inbox.wechat_reply_send", acks_late=True,
             time_limit=60, soft_time_limit=50, ignore_result=True,
             max_retries=5)
def wechat_reply_send(self, reply_id: int) -> str:
    """Send a queued reply through the WeChat customer-service API
    (inbox.services.wechat_send). At most once: a second run finds the reply taken
    and returns. Transient failures retry with backoff."""
    from inbox.services.wechat_send import SendRetry, reply_send_run

    try:
        return reply_send_run(reply_id=reply_id, attempt=self.request.retries,
                              max_retries=self.max_retries)
    except SendRetry as exc:
        raise self.retry(countdown=exc.countdown, exc=exc) from exc


@shared_task(name="inbox.wechat_sends_reap", acks_late=True, time_limit=60,
             soft_time_limit=50, ignore_result=True)
def wechat_sends_reap() -> int:
    """WeChat sends whose worker died mid-call fail as "result unknown"."""
    from inbox.services.wechat_send import reap_stuck_sends

    return reap_stuck_sends()
