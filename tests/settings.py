"""Test settings: the real settings plus a test-only job app, a private Celery queue, and
Redis database 15 (TEST_REDIS_URL to choose another), never the app's broker and cache.

The queue name and the cache's key prefix are per test run, so a `make run` worker never
takes a test's task and parallel runs on the same Redis share nothing; worker subprocesses
started by tests inherit both through the environment (tests/conftest.py).
"""

import os
import uuid
from urllib.parse import urlsplit, urlunsplit

TEST_REDIS_DB = 15


def _test_redis_url() -> str:
    if os.environ.get("TEST_REDIS_URL"):
        return os.environ["TEST_REDIS_URL"]
    app_url = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    return urlunsplit(app_url._replace(path=f"/{TEST_REDIS_DB}"))


os.environ.setdefault("CELERY_QUEUE", f"casefile-test-{uuid.uuid4().hex[:10]}")
os.environ.setdefault("JOB_STALE_AFTER_SECONDS", "3600")
os.environ["REDIS_URL"] = os.environ["TEST_REDIS_URL"] = _test_redis_url()
os.environ.pop("CELERY_BROKER_URL", None)  # the broker is the test Redis too

from newsroom.settings import *  # noqa: E402, F403
from newsroom.settings import CACHES, CELERY_TASK_DEFAULT_QUEUE, INSTALLED_APPS  # noqa: E402

INSTALLED_APPS = [*INSTALLED_APPS, "tests.jobs_app"]
CACHES["default"]["KEY_PREFIX"] = CELERY_TASK_DEFAULT_QUEUE
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HEALTHZ_WORKER_TIMEOUT = 0.5
HEALTHZ_INTERVAL = 0  # computed on every request, unless a test says otherwise
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = BASE_DIR / "var" / "test-static"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
SNAPSHOT_CONNECT_TIMEOUT = 2.0
SNAPSHOT_READ_TIMEOUT = 2.0
SNAPSHOT_TOTAL_TIMEOUT = 5.0
