"""Remote-control commands this app's Celery workers answer (imported by newsroom/celery.py).

`casefile_health` tells /healthz which queues a worker consumes and whether it can reach the
database right now: a worker that answers a ping but cannot run a single task is not a
healthy worker.
"""

from typing import Any

from celery.worker.control import inspect_command

HEALTH_COMMAND = "casefile_health"
# The reply must come back within /healthz's wait (HEALTHZ_WORKER_TIMEOUT, 1 s by default);
# an unreachable host would otherwise hold the worker's control loop for minutes.
DATABASE_CONNECT_TIMEOUT = 2


def database_check() -> dict[str, Any]:
    """Connect afresh and run SELECT 1 (never the Django connection tasks use: this runs in
    the worker's main process, whose pool children must not inherit a connection)."""
    import psycopg
    from django.db import connection

    try:
        params = connection.get_connection_params()
        with psycopg.connect(
            **params, connect_timeout=DATABASE_CONNECT_TIMEOUT, autocommit=True
        ) as raw:
            raw.execute("SELECT 1")
    except Exception as exc:  # whatever the reason, this worker cannot reach it
        return {"database": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"database": True}


@inspect_command(name=HEALTH_COMMAND)
def casefile_health(state: Any, **kwargs: Any) -> dict[str, Any]:
    """Queues this worker consumes and whether it reaches the database."""
    consumer = state.consumer.task_consumer
    queues = sorted(queue.name for queue in consumer.queues) if consumer else []
    return {"queues": queues, **database_check()}
