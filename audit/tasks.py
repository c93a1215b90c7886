import logging

from celery import shared_task

from audit.services import verify_chain

log = logging.getLogger(__name__)


@shared_task(name="audit.verify_chain", acks_late=True, time_limit=3600)
def verify_chain_task() -> dict:
    report = verify_chain()
    if not report.intact:
        log.error("audit chain broken at %s: %s", report.broken_id, report.reason)
    return {"intact": report.intact, "checked": report.checked, "broken_id": report.broken_id}


@shared_task(name="audit.anchor_head", acks_late=True, time_limit=120)
def anchor_head_task() -> dict | None:
    from audit.anchors import anchor_write

    return anchor_write()
