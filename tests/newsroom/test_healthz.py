import pytest
from django.test import override_settings


def test_healthz_needs_no_login_and_reports_a_missing_worker(client, db):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["redis"] == {"ok": True}
    assert body["down"] == ["worker"]
    assert "no Celery worker" in body["checks"]["worker"]["error"]


@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_healthz_reports_redis_down(client, db):
    body = client.get("/healthz").json()
    assert body["status"] == "down"
    assert body["down"] == ["redis", "worker"]
    assert "Connection" in body["checks"]["redis"]["error"]


@pytest.mark.worker
def test_healthz_all_up_with_a_worker(client, celery_worker):
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["worker"]["ok"] is True
    assert body["checks"]["worker"]["workers"]
