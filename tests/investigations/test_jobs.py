"""Job rows: claim, finish, give up, sweep; and the real thing through a Celery worker."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from investigations import jobs
from investigations.jobs import JobStatus
from tests.jobs_app.models import EchoJob


@pytest.fixture
def job(case):
    return EchoJob.objects.create(investigation=case, text="hello")


def test_claim_then_finish(job):
    claimed = jobs.job_claim(EchoJob, job.pk, task_id="t1")
    assert (claimed.status, claimed.attempts, claimed.claimed_by) == ("running", 1, "t1")
    assert jobs.job_finish(claimed, task_id="t1")
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.finished_at is not None


def test_duplicate_message_cannot_claim_a_running_job(job):
    assert jobs.job_claim(EchoJob, job.pk, task_id="t1")
    assert jobs.job_claim(EchoJob, job.pk, task_id="t2") is None
    # ... but a redelivery of the same message (its worker died) can take it over.
    again = jobs.job_claim(EchoJob, job.pk, task_id="t1")
    assert again.attempts == 2


def test_done_job_is_not_run_again(job):
    jobs.job_finish(jobs.job_claim(EchoJob, job.pk, task_id="t1"), task_id="t1")
    assert jobs.job_claim(EchoJob, job.pk, task_id="t1") is None
    assert jobs.job_claim(EchoJob, job.pk, task_id="t9") is None


@override_settings(JOB_MAX_ATTEMPTS=3)
def test_gives_up_after_max_attempts_with_a_reason(job):
    for _ in range(3):
        assert jobs.job_claim(EchoJob, job.pk, task_id="t1")
    assert jobs.job_claim(EchoJob, job.pk, task_id="t1") is None
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "Gave up after 3 attempts" in job.error


def test_stale_running_job_can_be_taken_over(job):
    jobs.job_claim(EchoJob, job.pk, task_id="t1")
    EchoJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(days=1))
    assert jobs.job_claim(EchoJob, job.pk, task_id="t2").claimed_by == "t2"


def test_release_for_retry_and_fail(job):
    claimed = jobs.job_claim(EchoJob, job.pk, task_id="t1")
    assert jobs.job_release_for_retry(claimed, task_id="t1", reason="timeout")
    job.refresh_from_db()
    assert (job.status, job.error) == ("pending", "timeout")
    claimed = jobs.job_claim(EchoJob, job.pk, task_id="t2")
    assert not jobs.job_fail(claimed, task_id="t1", reason="stale claim")  # not the holder
    assert jobs.job_fail(claimed, task_id="t2", reason="HTTP 404")
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "HTTP 404")


def test_job_models_registry_finds_concrete_jobs():
    assert EchoJob in jobs.job_models()


@pytest.mark.worker
def test_job_runs_through_a_real_worker(celery_worker, case):
    with transaction.atomic():
        job = EchoJob.objects.create(investigation=case, text="через воркер")
        jobs.job_enqueue(job)
    done = celery_worker.wait_for(
        lambda: EchoJob.objects.filter(pk=job.pk, status=JobStatus.DONE).first()
    )
    assert done.result == "ЧЕРЕЗ ВОРКЕР"
    assert done.attempts == 1


@pytest.mark.worker
def test_task_that_kills_its_worker_gives_up_with_a_reason(celery_worker, case):
    # reject_on_worker_lost re-queues the message each time the worker process dies; the
    # attempt count (JOB_MAX_ATTEMPTS, 3 in the worker) is what stops the loop.
    with transaction.atomic():
        job = EchoJob.objects.create(investigation=case, text="boom", crash=True)
        jobs.job_enqueue(job)
    failed = celery_worker.wait_for(
        lambda: EchoJob.objects.filter(pk=job.pk, status=JobStatus.FAILED).first(), timeout=60
    )
    assert failed.attempts == 3
    assert "Gave up after 3 attempts" in failed.error
    assert celery_worker.process.poll() is None  # the worker itself survived


@pytest.mark.worker
def test_sweeper_re_enqueues_a_lost_job(celery_worker, case):
    # A job row committed but never sent (the broker was down at commit time).
    job = EchoJob.objects.create(
        investigation=case, text="lost", queued_at=timezone.now() - timedelta(hours=2)
    )
    assert jobs.jobs_sweep() == 1
    done = celery_worker.wait_for(
        lambda: EchoJob.objects.filter(pk=job.pk, status=JobStatus.DONE).first()
    )
    assert done.result == "LOST"
    assert jobs.jobs_sweep() == 0
