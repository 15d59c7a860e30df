"""Import orchestration: stage a file, confirm its mapping, run it (in a worker or a command).

The whole merge of a file is one transaction: a crash or a killed worker leaves nothing of the
file in the dataset, and the job is run again from the start (re-importing is idempotent).
Progress goes to the cache, because the database rows being written are not visible to the
progress page until the transaction commits.
"""

import hashlib
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

from investigations import jobs
from investigations.errors import DomainError

from ..models import Dataset, ImportJob, RejectedRow, SavedMapping
from .types import CompanyRow, Mapping, Reject, ShipmentRow

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 20_000  # rows between progress updates
REJECTS_KEPT = 100_000  # a file this bad is reported in part; the count stays exact


def _storage():
    from django.core.files.storage import default_storage

    return default_storage


def dataset_for(name: str, *, actor=None) -> Dataset:
    """The dataset of that name, created if it does not exist."""
    name = (name or "").strip()
    if not name:
        raise DomainError("Name the dataset to import into.", field="dataset")
    dataset, _ = Dataset.objects.get_or_create(name=name[:200], defaults={"created_by": actor})
    return dataset


def mapping_from_spec(spec: dict) -> Mapping:
    return Mapping(
        columns=dict(spec.get("columns", {})),
        date_format=spec.get("date_format", "auto"),
        decimal_comma=spec.get("decimal_comma"),
        defaults=dict(spec.get("defaults", {})),
    )


def resolve_mapping(value: str, *, kind: str) -> Mapping | None:
    """A saved mapping by name, or a JSON spec ({"columns": {...}, "date_format": ...})."""
    import json

    value = (value or "").strip()
    if not value:
        return None
    if value.startswith("{"):
        try:
            return mapping_from_spec(json.loads(value))
        except (ValueError, TypeError, AttributeError) as exc:
            raise DomainError(f"The mapping is not valid JSON: {exc}") from exc
    saved = SavedMapping.objects.filter(name=value).first()
    if saved is None:
        raise DomainError(f"No saved mapping named {value!r}.")
    if saved.kind != kind:
        raise DomainError(f"The mapping {value!r} is for {saved.get_kind_display().lower()}.")
    return mapping_from_spec(saved.spec)


def import_stage(
    *,
    kind: str,
    dataset: Dataset,
    path: Path,
    original_name: str,
    actor=None,
    mapping: Mapping | None = None,
    mapping_name: str = "",
) -> ImportJob:
    """Keep the uploaded file and make a draft job whose mapping a person confirms."""
    from .mapping import auto_mapping
    from .readers import UnreadableFile, open_table, preview

    if kind not in SavedMapping.Kind.values:
        raise DomainError("Choose shipments or companies.", field="kind")
    try:
        table = open_table(path, filename=original_name)
        preview(table)  # what the mapping screen shows: a file that cannot show it stops here
    except UnreadableFile as exc:
        raise DomainError(
            f"“{original_name}” cannot be imported: {exc.reason}", field="file"
        ) from exc
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    columns = mapping.columns if mapping else auto_mapping(table.headers, kind)
    spec = (
        asdict(mapping)
        if mapping
        else {"columns": columns, "date_format": "auto", "decimal_comma": None, "defaults": {}}
    )
    with open(path, "rb") as fh:
        name = _storage().save(f"imports/{timezone.now():%Y/%m}/{original_name}", fh)
    return ImportJob.objects.create(
        kind=kind,
        dataset=dataset,
        original_name=original_name[:300],
        file=name,
        size=Path(path).stat().st_size,
        sha256=digest.hexdigest(),
        mapping=spec,
        mapping_name=mapping_name[:100],
        created_by=actor,
        status=jobs.JobStatus.DRAFT,
    )


def import_confirm(*, job: ImportJob, spec: dict, save_as: str = "", actor=None) -> ImportJob:
    """Fix the mapping, optionally save it by name, and queue the import."""
    from .mapping import missing_required

    mapping = mapping_from_spec(spec)
    missing = missing_required(mapping.columns, job.kind)
    if missing:
        raise DomainError("Map these fields first: " + ", ".join(missing) + ".")
    with transaction.atomic():
        if save_as.strip():
            SavedMapping.objects.update_or_create(
                name=save_as.strip()[:100],
                defaults={"kind": job.kind, "spec": spec, "created_by": actor},
            )
        updated = ImportJob.objects.filter(pk=job.pk, status=jobs.JobStatus.DRAFT).update(
            mapping=spec,
            mapping_name=save_as.strip()[:100] or job.mapping_name,
            status=jobs.JobStatus.PENDING,
            queued_at=timezone.now(),
        )
        if not updated:
            raise DomainError("This import has started already.")
        job.refresh_from_db()
        jobs.job_enqueue(job)
    return job


def progress_key(job: ImportJob) -> str:
    # By public id: a database rebuilt for tests or a demo reuses primary keys, not UUIDs.
    return f"import-progress:{job.public_id}"


def progress(job: ImportJob) -> dict | None:
    """Rows done, rows per second and seconds left, as the worker last reported them; None
    when the cache (Redis) cannot be read."""
    try:
        return cache.get(progress_key(job)) or {}
    except RedisError as exc:
        logger.warning("import %s: progress unavailable: %s", job.public_id, exc)
        return None


def _report(job: ImportJob, *, done: int, started: float) -> None:
    elapsed = max(time.monotonic() - started, 1e-6)
    rate = done / elapsed
    total = job.rows_total_estimate
    left = max(total - done, 0) / rate if total and rate else None
    try:
        cache.set(
            progress_key(job),
            {"rows": done, "rate": rate, "eta": left, "total": total},
            timeout=24 * 3600,
        )
    except RedisError as exc:  # progress is for the page; the import goes on without it
        logger.warning("import %s: progress not recorded: %s", job.public_id, exc)


def import_run(*, job: ImportJob, echo: Callable[[dict], None] | None = None) -> ImportJob:
    """Read, parse and load the whole file in one transaction; record counts and rejects."""
    from .loader import load_companies, load_shipments
    from .parse import Parser
    from .readers import estimate_rows, open_table

    started = time.monotonic()
    mapping = mapping_from_spec(job.mapping)
    rejects: list[Reject] = []
    counts = {"read": 0, "rejected": 0}
    with _local(job.file) as path:
        table = open_table(path, filename=job.original_name)
        job.rows_total_estimate = estimate_rows(path)
        ImportJob.objects.filter(pk=job.pk).update(rows_total_estimate=job.rows_total_estimate)
        parser = Parser(job.kind, mapping, table.headers)

        def parsed() -> Iterator[ShipmentRow | CompanyRow]:
            for line, values in table.rows():
                counts["read"] += 1
                result = parser.parse(line, values)
                if isinstance(result, list):
                    counts["rejected"] += 1
                    if len(rejects) < REJECTS_KEPT:
                        rejects.extend(result)
                    continue
                yield result

        def on_progress(done: int) -> None:
            _report(job, done=counts["read"], started=started)
            if echo:
                echo(progress(job) or {})

        load = load_shipments if job.kind == "shipments" else load_companies
        with transaction.atomic():
            result = load(parsed(), dataset=job.dataset, on_progress=on_progress)
            RejectedRow.objects.filter(job=job).delete()
            RejectedRow.objects.bulk_create(
                [
                    RejectedRow(
                        job=job,
                        line=r.line,
                        column=r.column[:200],
                        value=r.value[:2000],
                        reason=r.reason[:300],
                    )
                    for r in rejects
                ],
                batch_size=5000,
            )
            ImportJob.objects.filter(pk=job.pk).update(
                rows_read=counts["read"],
                rows_imported=result.imported,
                rows_updated=result.updated,
                rows_unchanged=result.unchanged,
                rows_rejected=counts["rejected"],
                entities_created=result.entities_created,
                seconds=time.monotonic() - started,
            )
    _report(job, done=counts["read"], started=started)
    job.refresh_from_db()
    return job


@contextmanager
def _local(name: str) -> Iterator[Path]:
    """A local path for the stored file (a temporary copy when storage is remote)."""
    storage = _storage()
    try:
        yield Path(storage.path(name))
        return
    except NotImplementedError:
        pass
    with tempfile.NamedTemporaryFile(prefix="casefile-import-") as tmp:
        with storage.open(name, "rb") as fh:
            shutil.copyfileobj(fh, tmp, 1024 * 1024)
        tmp.flush()
        yield Path(tmp.name)
