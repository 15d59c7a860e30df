"""/healthz: status for anyone, details for staff and the monitoring token, answered from a
recent result; workers count only when they consume this app's queue and reach the database."""

import time

import pytest
from django.test import override_settings

from tests.factories import UserFactory

TOKEN = "monitoring-token-0123456789"


@pytest.fixture(autouse=True)
def fresh_health():
    """Each test starts without a last result (the cache and this process keep one)."""
    from django.core.cache import cache

    from newsroom import health

    health._local.clear()
    cache.delete(health.RESULT_KEY)
    yield
    health._local.clear()


def _details(client, **extra):
    return client.get("/healthz", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **extra)


@override_settings(HEALTHZ_TOKEN=TOKEN)
def test_healthz_needs_no_login_and_reports_a_missing_worker(client, db, settings):
    response = _details(client)
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["redis"] == {"ok": True}
    assert body["down"] == ["worker"]
    assert "no Celery worker" in body["checks"]["worker"]["error"]
    assert settings.CELERY_TASK_DEFAULT_QUEUE in body["checks"]["worker"]["error"]


@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0", HEALTHZ_TOKEN=TOKEN)
def test_healthz_reports_redis_down(client, db):
    body = _details(client).json()
    assert body["status"] == "down"
    assert body["down"] == ["redis", "worker"]
    assert "Connection" in body["checks"]["redis"]["error"]


@pytest.mark.worker
@override_settings(HEALTHZ_TOKEN=TOKEN)
def test_healthz_all_up_with_a_worker(client, celery_worker):
    response = _details(client)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["worker"]["ok"] is True
    (worker,) = body["checks"]["worker"]["workers"].values()
    assert worker == {"database": True}


@override_settings(HEALTHZ_TOKEN=TOKEN, HEALTHZ_INTERVAL=60)
def test_item11_details_only_for_staff_or_the_token(client, db):
    # Anonymous: the status and the code, no check names, host names or error text.
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (503, {"status": "down"})
    for wrong in ("Bearer nope", "Bearer ", f"Basic {TOKEN}", TOKEN):
        assert client.get("/healthz", HTTP_AUTHORIZATION=wrong).json() == {"status": "down"}
    assert client.get("/healthz", {"token": "nope"}).json() == {"status": "down"}
    assert "checks" in _details(client).json()
    assert "checks" in client.get("/healthz", {"token": TOKEN}).json()
    client.force_login(UserFactory(username="dana"))
    assert client.get("/healthz").json() == {"status": "down"}  # logged in is not enough
    client.force_login(UserFactory(username="erlan", is_staff=True))
    assert "checks" in client.get("/healthz").json()


@override_settings(HEALTHZ_TOKEN="")
def test_item11_no_token_configured_means_no_token_works(client, db):
    assert client.get("/healthz", HTTP_AUTHORIZATION="Bearer ").json() == {"status": "down"}
    assert client.get("/healthz", {"token": ""}).json() == {"status": "down"}


@override_settings(HEALTHZ_TOKEN=TOKEN, HEALTHZ_INTERVAL=15, HEALTHZ_WORKER_TIMEOUT=0.5)
def test_item11_answers_fast_from_a_recent_result(client, db):
    """It waited for a worker ping on every request (~1 s), so a few anonymous requests
    slowed every other page; now one request computes it, at most every HEALTHZ_INTERVAL."""
    first = _details(client).json()
    started = time.monotonic()
    for _ in range(20):
        assert client.get("/healthz").status_code == 503
    assert time.monotonic() - started < 0.5  # twenty answers in less than one worker wait
    assert _details(client).json()["checked_at"] == first["checked_at"]


@override_settings(
    HEALTHZ_TOKEN=TOKEN,
    HEALTHZ_INTERVAL=15,
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    },
)
def test_healthz_answers_when_the_cache_is_down(client, db):
    body = _details(client).json()
    assert body["checks"]["database"] == {"ok": True}
    assert client.get("/healthz").status_code == 503


@pytest.mark.worker
@override_settings(HEALTHZ_TOKEN=TOKEN)
def test_item5_item11_a_worker_that_cannot_reach_the_database_makes_healthz_503(
    client, celery_worker, start_worker
):
    assert _details(client).status_code == 200
    start_worker(env={"DATABASE_URL": "postgres://postgres@127.0.0.1:1/casefile"})
    response = _details(client)
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["worker"]
    assert body["checks"]["worker"]["error"] == "database unreachable"
    states = body["checks"]["worker"]["workers"]
    assert sorted(s["database"] for s in states.values()) == [False, True]
    assert any("127.0.0.1" in s.get("error", "") for s in states.values())
    assert client.get("/healthz").json() == {"status": "down"}


@pytest.mark.worker
@override_settings(HEALTHZ_TOKEN=TOKEN)
def test_item13_a_worker_of_another_queue_does_not_count(client, start_worker, settings):
    """`make run`'s worker consumes the app's queue; a test's /healthz must not count it
    (nor any other worker on the same broker that does not consume this app's queue)."""
    start_worker(env={"CELERY_QUEUE": "casefile-someone-else"}, name="foreign")
    response = _details(client)
    assert response.status_code == 503
    assert response.json()["down"] == ["worker"]
    ours = start_worker(name="ours")
    body = _details(client).json()
    assert body["status"] == "ok", body
    assert len(body["checks"]["worker"]["workers"]) == 1
    assert ours.process.poll() is None


def test_item13_tests_use_their_own_redis_database_queue_and_cache_keys(settings):
    from urllib.parse import urlsplit

    # Not the app's database 0 (the broker and cache of `make run`); /15 unless TEST_REDIS_URL.
    assert urlsplit(settings.REDIS_URL).path not in ("", "/", "/0")
    assert settings.CELERY_BROKER_URL == settings.REDIS_URL
    assert settings.CACHES["default"]["LOCATION"] == settings.REDIS_URL
    # Per run: parallel runs on the same Redis share neither tasks nor cache keys.
    assert settings.CELERY_TASK_DEFAULT_QUEUE.startswith("casefile-test-")
    run = settings.CELERY_TASK_DEFAULT_QUEUE.removeprefix("casefile-test-")
    assert run in settings.CACHES["default"]["KEY_PREFIX"]
