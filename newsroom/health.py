"""/healthz: can this process reach the database, Redis, and at least one Celery worker?"""

import logging

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def _redis() -> dict:
    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1
    )
    try:
        client.ping()
    finally:
        client.close()
    return {"ok": True}


def _worker() -> dict:
    from newsroom.celery import app

    replies = app.control.ping(timeout=settings.HEALTHZ_WORKER_TIMEOUT)
    workers = sorted(name for reply in replies for name in reply)
    if not workers:
        return {"ok": False, "error": "no Celery worker answered a ping"}
    return {"ok": True, "workers": workers}


CHECKS = {"database": _database, "redis": _redis, "worker": _worker}


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    results: dict[str, dict] = {}
    for name, check in CHECKS.items():
        if name == "worker" and not results["redis"]["ok"]:
            results[name] = {"ok": False, "error": "broker (Redis) unreachable"}
            continue
        try:
            results[name] = check()
        except Exception as exc:  # any failure of a dependency is a "down", never a 500
            logger.warning("healthz: %s down: %s", name, exc)
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    down = [name for name, result in results.items() if not result["ok"]]
    body = {"status": "ok" if not down else "down", "down": down, "checks": results}
    return JsonResponse(body, status=503 if down else 200)
