"""/healthz: database and broker status as JSON (200 when both answer, 503 otherwise)."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def _database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # health checks report, they do not raise
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "vendor": connection.vendor, "ms": round((time.perf_counter() - started) * 1000, 2)}


def _broker() -> dict:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        try:
            folder.mkdir(parents=True, exist_ok=True)
            ok = folder.is_dir()
        except OSError as exc:
            return {"ok": False, "kind": "filesystem", "error": exc.__class__.__name__}
        return {"ok": ok, "kind": "filesystem"}
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
    except Exception as exc:
        return {"ok": False, "kind": "redis", "error": exc.__class__.__name__}
    return {"ok": True, "kind": "redis"}


WORKER_STALE_SECONDS = 180


def _worker() -> dict:
    """Whether a worker ran the every-minute heartbeat task recently (common.tasks)."""
    from datetime import datetime

    from django.core.cache import cache
    from django.utils import timezone

    from common.tasks import HEARTBEAT_KEY

    try:
        seen = cache.get(HEARTBEAT_KEY)
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    if not seen:
        return {"ok": False, "last_seen": None}
    age = (timezone.now() - datetime.fromisoformat(seen)).total_seconds()
    return {"ok": age <= WORKER_STALE_SECONDS, "last_seen": seen, "age_s": round(age)}


def healthz(request):
    """200 while the database and the broker answer (the web process can serve); the
    status says "degraded" also when no worker has consumed the queue in the last
    three minutes, so monitoring sees a stopped worker."""
    db, broker, worker = _database(), _broker(), _worker()
    serving = db["ok"] and broker["ok"]
    return JsonResponse(
        {
            "status": "ok" if serving and worker["ok"] else "degraded",
            "database": db,
            "broker": broker,
            "worker": worker,
        },
        status=200 if serving else 503,
    )
