"""Rows of the analysis package: saved network layouts, red-flag runs and their hits.

Imported by entities.models (so Django finds them in the entities app); not imported anywhere
before that module has defined Entity and Dataset.
"""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from investigations.jobs import JobModel
from investigations.models import Investigation


class NetworkLayout(models.Model):
    """Node positions of a case's network page, saved by a member who may write.

    Not a TrackedModel: a drag would log thousands of coordinates; the service records one
    summary entry per save instead.
    """

    investigation = models.OneToOneField(
        Investigation, on_delete=models.CASCADE, related_name="network_layout"
    )
    # {entity public id: [x, y]}
    positions = models.JSONField(default=dict, blank=True)
    # Edge kinds switched off on the page (LinkKind values and "Trade").
    hidden_kinds = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "network layout"


class FlagRun(JobModel):
    """The red-flag detectors over one case file or one dataset; one row per scope, re-runnable.

    A run replaces the scope's hits in one transaction when it finishes, so the Flags tab shows
    the last finished run while the next one works.
    """

    task_name = "entities.run_red_flags"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    investigation = models.OneToOneField(
        Investigation, null=True, blank=True, on_delete=models.CASCADE, related_name="flag_run"
    )
    dataset = models.OneToOneField(
        "entities.Dataset", null=True, blank=True, on_delete=models.CASCADE, related_name="flag_run"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Progress while running: detectors finished of the total, the one at work now.
    detectors_total = models.PositiveSmallIntegerField(default=0)
    detectors_done = models.PositiveSmallIntegerField(default=0)
    current = models.CharField(max_length=40, blank=True)
    # Of the last finished run.
    hit_count = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(null=True, blank=True)
    # The settings the last finished run used (dates, countries, HS list, ...), shown with it.
    config = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(investigation__isnull=False, dataset__isnull=True)
                | Q(investigation__isnull=True, dataset__isnull=False),
                name="flagrun_in_one_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"red flags of {self.investigation or self.dataset}"


class FlagHit(models.Model):
    """One pattern a detector found, with the facts and the ids of what raised it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    run = models.ForeignKey(FlagRun, on_delete=models.CASCADE, related_name="hits")
    detector = models.CharField(max_length=40)
    score = models.FloatField()
    explanation = models.TextField()
    # Entity, shipment and link primary keys (no foreign keys: a hit outlives a deleted row,
    # and pages skip ids that are gone). Entities first: the ones the hit is about.
    entity_ids = ArrayField(models.BigIntegerField(), default=list)
    shipment_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    link_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    # What the detector saw, for the command's JSON and for a timeline claim.
    facts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-score", "detector", "id"]
        indexes = [
            # The Flags tab: a run's hits, best first.
            models.Index(fields=["run", "-score"], name="flaghit_run_score_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.detector}: {self.explanation[:60]}"
