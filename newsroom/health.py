"""/healthz: can this app reach the database and Redis, and do its workers run and reach the
database?

The checks take up to HEALTHZ_WORKER_TIMEOUT (waiting for workers' replies), so they run at
most every HEALTHZ_INTERVAL seconds: the request that finds the last result stale takes a
short lock in the cache and computes it, the others answer from the last result at once.
Without the cache (Redis down) each web process keeps its own last result.

Anyone gets {"status": "ok" | "down"} with 200 or 503; staff, and requests carrying
HEALTHZ_TOKEN (`Authorization: Bearer <token>` or `?token=<token>`), also get the checks:
what is down, errors, worker names and their database reachability.
"""

import hmac
import logging
import time
from typing import Any

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .worker_control import HEALTH_COMMAND

logger = logging.getLogger(__name__)

RESULT_KEY = "healthz:result"
LOCK_KEY = "healthz:computing"
# The last result of this process, for when the cache cannot be read.
_local: dict[str, Any] = {}


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def _redis() -> dict:
    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL,
        socket_connect_timeout=settings.REDIS_TIMEOUT,
        socket_timeout=settings.REDIS_TIMEOUT,
    )
    try:
        client.ping()
    finally:
        client.close()
    return {"ok": True}


def _worker() -> dict:
    """Workers consuming this app's queue (other apps' workers may share the broker), and
    whether each reaches the database."""
    from newsroom.celery import app

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    replies = app.control.broadcast(
        HEALTH_COMMAND, reply=True, timeout=settings.HEALTHZ_WORKER_TIMEOUT
    )
    workers = {
        name: {k: v for k, v in answer.items() if k != "queues"}
        for reply in replies
        for name, answer in reply.items()
        if isinstance(answer, dict) and queue in answer.get("queues", ())
    }
    if not workers:
        return {"ok": False, "error": f"no Celery worker consumes the queue {queue!r}"}
    workers = dict(sorted(workers.items()))
    if not all(state.get("database") for state in workers.values()):
        return {"ok": False, "error": "database unreachable", "workers": workers}
    return {"ok": True, "workers": workers}


CHECKS = {"database": _database, "redis": _redis, "worker": _worker}


def health_check() -> dict:
    """Run every check now; a failing dependency is a "down", never an exception."""
    results: dict[str, dict] = {}
    for name, check in CHECKS.items():
        if name == "worker" and not results["redis"]["ok"]:
            results[name] = {"ok": False, "error": "broker (Redis) unreachable"}
            continue
        try:
            results[name] = check()
        except Exception as exc:  # any failure of a dependency is a "down", never a 500
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    down = [name for name, result in results.items() if not result["ok"]]
    for name in down:
        logger.warning("healthz: %s down: %s", name, results[name]["error"])
    return {
        "status": "ok" if not down else "down",
        "down": down,
        "checks": results,
        "checked_at": timezone.now().isoformat(),
        "computed": time.time(),
    }


def _cached(method: str, *args: Any, **kwargs: Any) -> Any:
    try:
        return getattr(cache, method)(*args, **kwargs)
    except Exception as exc:  # the cache is Redis; its being down is reported by the check
        logger.debug("healthz: cache %s failed: %s", method, exc)
        return None


def current_health() -> dict:
    """The last result if it is recent, else a new one (computed by one request at a time)."""
    interval = settings.HEALTHZ_INTERVAL
    last = _cached("get", RESULT_KEY) or _local.get("result")
    if last and time.time() - last["computed"] < interval:
        return last
    # False: another request is computing it; None: the cache is down, compute it here.
    locked = _cached("add", LOCK_KEY, 1, timeout=settings.HEALTHZ_WORKER_TIMEOUT + 10)
    if last and locked is False:
        return last
    try:
        result = health_check()
    finally:
        _cached("delete", LOCK_KEY)
    _local["result"] = result
    _cached("set", RESULT_KEY, result, timeout=max(interval * 4, 60))
    return result


def _may_see_details(request: HttpRequest) -> bool:
    if request.user.is_authenticated and request.user.is_staff:
        return True
    token = settings.HEALTHZ_TOKEN
    if not token:
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        given = request.GET.get("token", "")
    return hmac.compare_digest(given.encode(), token.encode())


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    result = current_health()
    status = 503 if result["status"] != "ok" else 200
    if not _may_see_details(request):
        return JsonResponse({"status": result["status"]}, status=status)
    body = {k: v for k, v in result.items() if k != "computed"}
    body["age_seconds"] = round(time.time() - result["computed"], 1)
    return JsonResponse(body, status=status)
