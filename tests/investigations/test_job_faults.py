"""Background work on a bad day, through real workers: a dropped database connection, a task
that raises what nobody expected (issue 10, items 5 and 6)."""

import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from investigations import jobs
from investigations.jobs import JobStatus
from tests.jobs_app.models import EchoJob

FINISHED = [JobStatus.DONE, JobStatus.FAILED]


def _run(worker, job: EchoJob, *, timeout: float = 30) -> EchoJob:
    with transaction.atomic():
        jobs.job_enqueue(job)
    return worker.wait_for(
        lambda: EchoJob.objects.filter(pk=job.pk, status__in=FINISHED).first(),
        timeout=timeout,
    )


def _terminate_other_connections() -> int:
    """What a PostgreSQL restart or a failover does to the worker: its connections die."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.mark.worker
def test_item5_worker_reconnects_after_its_database_connection_is_terminated(start_worker, case):
    # The production default: the worker keeps its connection between tasks (other worker
    # tests use 0, which closes it after every task and would hide the fault).
    worker = start_worker(env={"DB_CONN_MAX_AGE": "60"})
    first = _run(worker, EchoJob.objects.create(investigation=case, text="before"))
    assert first.status == JobStatus.DONE, first.error
    assert _terminate_other_connections() >= 1
    second = _run(worker, EchoJob.objects.create(investigation=case, text="after"))
    assert (second.status, second.result) == (JobStatus.DONE, "AFTER"), second.error
    # The sweeper runs in the worker too and must not be stuck on the dead connection either.
    from newsroom.celery import app

    lost = EchoJob.objects.create(
        investigation=case, text="swept", queued_at=timezone.now() - timedelta(hours=2)
    )
    _terminate_other_connections()
    app.send_task("investigations.sweep_jobs")
    done = worker.wait_for(
        lambda: EchoJob.objects.filter(pk=lost.pk, status=JobStatus.DONE).first(), timeout=30
    )
    assert done.result == "SWEPT"


@pytest.mark.worker
def test_item6_unexpected_exception_fails_the_job_at_once_with_its_reason(celery_worker, case):
    started = time.monotonic()
    job = EchoJob.objects.create(investigation=case, text="bug", raise_error=True)
    failed = _run(celery_worker, job, timeout=15)
    assert time.monotonic() - started < 15
    assert failed.status == JobStatus.FAILED
    assert failed.attempts == 1  # not re-run: a bug does not go away on retry
    assert failed.error.startswith("LookupError: no echo for 'bug'"), failed.error
    assert "Traceback" in celery_worker.output()  # the log keeps the whole story
    # The worker goes on with the next job.
    ok = _run(celery_worker, EchoJob.objects.create(investigation=case, text="next"))
    assert ok.status == JobStatus.DONE


def _django_error(run):
    """The django.db exception a query raises, as a task would see it."""
    from django.db import DatabaseError

    try:
        with transaction.atomic():
            run()
    except DatabaseError as exc:
        return exc
    raise AssertionError("no database error")


def test_item6_lost_connections_are_retried_impossible_queries_fail(db):
    def too_long_vector():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT to_tsvector('simple', string_agg(md5(i::text), ' '))"
                " FROM generate_series(1, 40000) i"
            )

    error = _django_error(too_long_vector)
    assert "too long for tsvector" in str(error)
    assert not jobs.is_transient_database_error(error)  # the same text fails again

    # A connection PostgreSQL terminated (a restart): the driver's error, wrapped by Django.
    from django.db import OperationalError

    raw = connection.get_new_connection(connection.get_connection_params())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [raw.info.backend_pid])
    try:
        raw.execute("SELECT 1")
    except Exception as exc:
        lost = OperationalError(*exc.args)
        lost.__cause__ = exc
    else:
        raise AssertionError("the terminated connection still answered")
    finally:
        raw.close()
    assert jobs.is_transient_database_error(lost)


def test_item9_the_sweeper_sends_unsent_jobs_at_its_next_run(case, settings):
    from tests.conftest import DEAD_BROKER, broker_at

    job = EchoJob.objects.create(investigation=case, text="unsent")
    draft = EchoJob.objects.create(investigation=case, text="draft", status=JobStatus.DRAFT)
    with broker_at(DEAD_BROKER):
        assert not jobs.job_send(job)
        assert jobs.jobs_sweep() == 0  # still down: nothing sent, nothing lost
    job.refresh_from_db()
    assert (job.status, job.sent_at, job.waiting_for_queue) == (JobStatus.PENDING, None, True)
    assert job.status_label == "Waiting for the queue"
    # Redis is back: sent at once, not after JOB_STALE_AFTER_SECONDS, and only once.
    assert jobs.jobs_sweep() == 1
    assert jobs.jobs_sweep() == 0
    job.refresh_from_db()
    assert job.sent_at is not None and job.status_label == "Pending"
    assert EchoJob.objects.get(pk=draft.pk).sent_at is None
