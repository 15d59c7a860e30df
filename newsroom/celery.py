"""The Celery app. Reliability settings live in Django settings under CELERY_*.

Database connections in workers: Celery's Django fixup keeps a connection across tasks when
CELERY_DB_REUSE_MAX is set (which saves a connection per task) but never checks it, so a
connection PostgreSQL dropped (a restart, a failover, pg_terminate_backend) would fail every
later task. Around each task we do what Django does around each request: close_old_connections
closes connections past DB_CONN_MAX_AGE or broken by an error, and makes the next query check
the connection first (CONN_HEALTH_CHECKS), so a dead one is replaced on the next task.
"""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

from . import worker_control  # noqa: F401 (registers the workers' health command)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")

app = Celery("newsroom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(**kwargs) -> None:
    from django.db import close_old_connections

    close_old_connections()
