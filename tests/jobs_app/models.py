"""A concrete job and a case-owned model, for testing the generic machinery (test-only app)."""

from django.db import models

from investigations.jobs import JobModel
from investigations.models import CaseOwnedModel


class EchoJob(CaseOwnedModel, JobModel):
    """Writes `text` in capitals into `result`; `crash` makes the task kill its worker
    process, `raise_error` makes it raise an exception no task expects."""

    task_name = "tests.echo_job"

    text = models.CharField(max_length=100)
    crash = models.BooleanField(default=False)
    raise_error = models.BooleanField(default=False)
    result = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return f"echo {self.text}"


class Note(CaseOwnedModel):
    title = models.CharField(max_length=100)
    body = models.TextField(blank=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)

    def __str__(self) -> str:
        return self.title
