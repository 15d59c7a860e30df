"""Test settings: the real settings plus a test-only job app and a private Celery queue.

The queue name is per test run so a `make run` worker on the same Redis never takes a test's
task; worker subprocesses started by tests inherit it through the environment.
"""

import os
import uuid

os.environ.setdefault("CELERY_QUEUE", f"casefile-test-{uuid.uuid4().hex[:10]}")
os.environ.setdefault("JOB_STALE_AFTER_SECONDS", "3600")

from newsroom.settings import *  # noqa: F403
from newsroom.settings import CACHES, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.jobs_app"]
# Cache keys (log-in and member-add counters, progress) are per test run like the queue, so
# parallel runs on one Redis never share a counter.
CACHES = {"default": {**CACHES["default"], "KEY_PREFIX": os.environ["CELERY_QUEUE"]}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HEALTHZ_WORKER_TIMEOUT = 0.5
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = BASE_DIR / "var" / "test-static"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
SNAPSHOT_CONNECT_TIMEOUT = 2.0
SNAPSHOT_READ_TIMEOUT = 2.0
SNAPSHOT_TOTAL_TIMEOUT = 5.0
