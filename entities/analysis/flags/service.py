"""Red-flag runs: request one (a job row, then a Celery task), execute it, read its hits.

One FlagRun row per case file or dataset. Executing runs every detector over a snapshot of the
scope's rows (base.scope_tables), then replaces the previous hits and marks the job done in one
transaction, so the Flags tab shows the last finished run while the next one works.
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from investigations import jobs
from investigations.errors import DomainError
from investigations.jobs import JobStatus
from investigations.models import Investigation

from ...models import Dataset, Entity, Link, Pin, Shipment
from ..models import FlagHit, FlagRun
from . import newly_founded, pass_through, round_trip, sanctions, trade_surge
from .base import FlagConfig, FlagScope, Hit, scope_tables

DETECTORS = (newly_founded, round_trip, pass_through, trade_surge, sanctions)
LABELS: dict[str, str] = {d.NAME: d.LABEL for d in DETECTORS}
# (label, what it looks for) for the Flags tab: each module's docstring.
DETECTOR_HELP: list[tuple[str, str]] = [
    (d.LABEL, " ".join((d.__doc__ or "").split())) for d in DETECTORS
]


def flag_run_of(*, case: Investigation | None = None, dataset: Dataset | None = None):
    """The scope's run row (with who asked), or None before the first run."""
    FlagScope(investigation=case, dataset=dataset)  # exactly one
    return (
        FlagRun.objects.select_related("requested_by")
        .filter(investigation=case, dataset=dataset)
        .first()
    )


def _reset(*, case: Investigation | None, dataset: Dataset | None, actor) -> tuple[FlagRun, bool]:
    """The scope's run row, back to pending; False when it is already pending or running."""
    FlagScope(investigation=case, dataset=dataset)
    run, created = FlagRun.objects.get_or_create(
        investigation=case, dataset=dataset, defaults={"requested_by": actor}
    )
    if created:
        return run, True
    reset = FlagRun.objects.filter(
        pk=run.pk, status__in=[JobStatus.DONE, JobStatus.FAILED, JobStatus.DRAFT]
    ).update(
        status=JobStatus.PENDING,
        attempts=0,
        claimed_by="",
        error="",
        queued_at=timezone.now(),
        started_at=None,
        finished_at=None,
        detectors_done=0,
        current="",
        requested_by=actor,
    )
    run.refresh_from_db()
    return run, bool(reset)


@transaction.atomic
def flag_run_request(
    *, case: Investigation | None = None, dataset: Dataset | None = None, actor=None
) -> FlagRun:
    """Queue a run of every detector (a re-run when one finished); idempotent while queued."""
    run, queued = _reset(case=case, dataset=dataset, actor=actor)
    if queued:
        jobs.job_enqueue(run)
    return run


def flag_run_execute(*, run: FlagRun, task_id: str, config: FlagConfig | None = None) -> int:
    """Run the detectors for a claimed run; replace its hits and finish it. Returns the hits.

    The caller holds the claim (jobs.job_claim); a run taken over meanwhile keeps its hits.
    """
    config = config or FlagConfig.from_settings()
    scope = FlagScope(investigation=run.investigation, dataset=run.dataset)
    started = time.monotonic()
    claimed = FlagRun.objects.filter(pk=run.pk, claimed_by=task_id)
    claimed.update(detectors_total=len(DETECTORS), detectors_done=0)
    found: list[Hit] = []
    with scope_tables(scope):
        for done, detector in enumerate(DETECTORS):
            claimed.update(current=detector.LABEL, detectors_done=done)
            found.extend(detector.detect(config, scope))
    with transaction.atomic():
        if not list(claimed.filter(status=JobStatus.RUNNING).select_for_update().values("pk")):
            return 0  # another run took the job over: its hits win
        FlagHit.objects.filter(run=run).delete()
        FlagHit.objects.bulk_create(
            FlagHit(
                run=run,
                detector=h.detector,
                score=h.score,
                explanation=h.explanation,
                entity_ids=h.entity_ids,
                shipment_ids=h.shipment_ids,
                link_ids=h.link_ids,
                facts=h.facts,
            )
            for h in found
        )
        claimed.update(
            status=JobStatus.DONE,
            finished_at=timezone.now(),
            error="",
            hit_count=len(found),
            seconds=round(time.monotonic() - started, 3),
            config=config.as_json(),
            current="",
            detectors_done=len(DETECTORS),
        )
    return len(found)


def flag_run_now(
    *, case: Investigation | None = None, dataset: Dataset | None = None, actor=None
) -> FlagRun:
    """Run the detectors in this process (manage.py red_flags), as the task would."""
    with transaction.atomic():
        run, _ = _reset(case=case, dataset=dataset, actor=actor)
    task_id = f"command-{uuid.uuid4()}"
    claimed = jobs.job_claim(
        FlagRun, run.pk, task_id=task_id, select_related=("investigation", "dataset")
    )
    if claimed is None:
        raise DomainError("These red flags are being computed by a worker right now; try later.")
    try:
        flag_run_execute(run=claimed, task_id=task_id)
    except Exception as exc:
        jobs.job_fail(claimed, task_id=task_id, reason=f"The detectors failed: {exc}")
        raise
    claimed.refresh_from_db()
    return claimed


@transaction.atomic
def dataset_mark_sanctions_list(*, dataset: Dataset, is_sanctions_list: bool) -> Dataset:
    """Treat every entity of a dataset as sanctioned (or stop): the sanctions flag and
    screening read Dataset.is_sanctions_list."""
    Dataset.objects.filter(pk=dataset.pk).update(is_sanctions_list=is_sanctions_list)
    dataset.is_sanctions_list = is_sanctions_list
    return dataset


# --- Reading hits ----------------------------------------------------------------------------


@dataclass
class HitView:
    """A hit with the rows its ids name (those still there), for pages and the command."""

    hit: FlagHit
    entities: list[Entity]
    shipments: list[Shipment]
    links: list[Link]
    urls: list[tuple[Entity, str]] = field(default_factory=list)  # set by views

    @property
    def label(self) -> str:
        return LABELS.get(self.hit.detector, self.hit.detector)


def flag_hits(*, run: FlagRun | None, case: Investigation | None = None) -> list[HitView]:
    """The run's hits, best first, with their entities, shipments and links (4 queries).

    With `case`, entities carry `is_pinned` (the page links them inside the case).
    """
    if run is None or run.hit_count == 0:
        return []
    hits = list(FlagHit.objects.filter(run=run).order_by("-score", "detector", "id"))
    entity_qs = Entity.objects.select_related("dataset")
    if case is not None:
        entity_qs = entity_qs.annotate(
            is_pinned=Exists(Pin.objects.filter(investigation=case, entity=OuterRef("pk")))
        )
    entities = entity_qs.in_bulk({i for h in hits for i in h.entity_ids})
    shipments = Shipment.objects.select_related("exporter", "importer").in_bulk(
        {i for h in hits for i in h.shipment_ids}
    )
    links = Link.objects.select_related("source", "target").in_bulk(
        {i for h in hits for i in h.link_ids}
    )
    return [
        HitView(
            hit=h,
            entities=[entities[i] for i in h.entity_ids if i in entities],
            shipments=sorted(
                (shipments[i] for i in h.shipment_ids if i in shipments),
                key=lambda s: (s.date, s.pk),
            ),
            links=[links[i] for i in h.link_ids if i in links],
        )
        for h in hits
    ]


def hits_json(*, run: FlagRun, views: list[HitView]) -> dict[str, Any]:
    """One JSON document of a run (manage.py red_flags --json)."""
    scope = run.investigation or run.dataset
    return {
        "scope": {
            "kind": "case" if run.investigation_id else "dataset",
            "name": str(scope),
            "id": str(scope.public_id),
        },
        "status": run.status,
        "error": run.error,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "seconds": run.seconds,
        "config": run.config,
        "hits": [
            {
                "detector": v.hit.detector,
                "label": v.label,
                "score": v.hit.score,
                "explanation": v.hit.explanation,
                "entities": [{"id": str(e.public_id), "name": e.name} for e in v.entities],
                "shipments": [str(s.public_id) for s in v.shipments],
                "links": [str(link.public_id) for link in v.links],
                "facts": v.hit.facts,
            }
            for v in views
        ],
    }


# --- From a flag to a timeline claim ---------------------------------------------------------

# The timeline (a later issue) registers here: hook(*, hit, case, actor) -> the claim made.
# Until then the Flags tab offers no button and flag_to_claim says why.
CLAIM_HOOKS: list[Callable[..., Any]] = []


def claims_available() -> bool:
    return bool(CLAIM_HOOKS)


def flag_to_claim(*, hit: FlagHit, case: Investigation, actor=None) -> Any:
    """Turn a case's flag into a timeline claim (draft) citing the flag's shipments and links."""
    if hit.run.investigation_id != case.pk:
        raise DomainError("This flag belongs to another scope.")
    if not CLAIM_HOOKS:
        raise DomainError(
            "Flags become timeline claims once the case timeline exists; it does not yet."
        )
    return CLAIM_HOOKS[0](hit=hit, case=case, actor=actor)
