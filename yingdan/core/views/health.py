"""GET /healthz: is this web node able to serve? For load balancers and monitoring.

Answers 200 when the database answers a query and the task queue's storage is reachable, else 503 with
"status": "degraded". No login needed; it reveals no host names, credentials or versions.
"""

from __future__ import annotations

import logging
import time

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from huey.contrib.djhuey import HUEY

logger = logging.getLogger(__name__)


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def check_database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure means "not ok"; the reason goes to the log, not to the client
        logger.exception("healthz: database check failed")
        return {"ok": False, "vendor": connection.vendor}
    return {"ok": True, "vendor": connection.vendor, "latency_ms": _elapsed_ms(started)}


def check_queue() -> dict:
    backend = type(HUEY).__name__
    try:
        pending = HUEY.pending_count()
    except Exception:
        logger.exception("healthz: task queue check failed")
        return {"ok": False, "backend": backend}
    return {"ok": True, "backend": backend, "pending": pending}


@login_not_required  # load balancers do not log in (honoured if LoginRequiredMiddleware is ever enabled)
@require_safe
@never_cache
def healthz(request):
    database, queue = check_database(), check_queue()
    healthy = database["ok"] and queue["ok"]
    body = {"status": "ok" if healthy else "degraded", "database": database, "queue": queue}
    return JsonResponse(body, status=200 if healthy else 503)

