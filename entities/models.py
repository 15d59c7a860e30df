"""Entities, links, shipments and datasets, aligned with FollowTheMoney.

A row lives in exactly one scope: a case file (private to its members) or a dataset (shared
reference data every logged-in user may read). Case files pin dataset entities to use them.
Dates of entities and links are ISO dates that may be partial ("2022", "2022-04"), as in FtM;
shipment dates are full dates because totals are computed by year.
"""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import OpClass
from django.db import models
from django.db.models import F, Q

from investigations.jobs import JobModel
from investigations.models import Investigation, TrackedModel

from .identifiers import Scheme
from .name_models import EntityName, NameKey, NameToken  # noqa: F401  (models of this app)

PARTIAL_DATE_REGEX = r"^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$"


class Dataset(models.Model):
    """Shared reference data loaded by staff: customs records, registries, sanctions lists."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    source_url = models.URLField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # A sanctions list (e.g. an OpenSanctions export): every entity in it counts as sanctioned
    # for the sanctions-match red flag and batch screening. Set by staff on the dataset page.
    is_sanctions_list = models.BooleanField(
        default=False,
        help_text="Every entity of this dataset is treated as sanctioned by the red flags "
        "and by batch screening.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ScopedModel(TrackedModel):
    """A row of exactly one case file or one dataset; case rows go into the activity log."""

    investigation = models.ForeignKey(
        Investigation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="%(app_label)s_%(class)s_set",
    )
    dataset = models.ForeignKey(
        Dataset,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="%(app_label)s_%(class)s_set",
    )

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(investigation__isnull=False, dataset__isnull=True)
                | Q(investigation__isnull=True, dataset__isnull=False),
                name="%(class)s_in_one_scope",
            ),
        ]

    @property
    def activity_investigation_id(self) -> int | None:
        return self.investigation_id

    @property
    def scope(self) -> Investigation | Dataset:
        return self.investigation if self.investigation_id else self.dataset

    def same_scope(self, other: "ScopedModel") -> bool:
        return (self.investigation_id, self.dataset_id) == (
            other.investigation_id,
            other.dataset_id,
        )


class Schema(models.TextChoices):
    """FollowTheMoney schema of an entity."""

    COMPANY = "Company", "Company"
    PERSON = "Person", "Person"
    ORGANIZATION = "Organization", "Organization"
    LEGAL_ENTITY = "LegalEntity", "Legal entity"


class Entity(ScopedModel):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    schema = models.CharField(max_length=20, choices=Schema.choices, default=Schema.COMPANY)
    name = models.CharField(max_length=500)
    aliases = ArrayField(models.CharField(max_length=500), default=list, blank=True)
    # ISO 3166-1 alpha-2, upper case: jurisdiction for organisations, countries for people.
    countries = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    nationality = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    # Incorporation or birth; dissolution or death.
    start_date = models.CharField(max_length=10, blank=True)
    end_date = models.CharField(max_length=10, blank=True)
    addresses = ArrayField(models.TextField(), default=list, blank=True)
    notes = models.TextField(blank=True)
    # Provenance: who or which source said so, and when the row was made.
    source = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The FtM id this entity was imported under (datasets: idempotent re-import).
    ftm_id = models.CharField(max_length=200, blank=True)
    # FtM properties we do not model, kept so an import exports again unchanged.
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "entities"
        constraints = [
            *ScopedModel.Meta.constraints,
            models.CheckConstraint(
                condition=Q(schema__in=Schema.values), name="entity_schema_valid"
            ),
            models.CheckConstraint(
                condition=Q(start_date="") | Q(start_date__regex=PARTIAL_DATE_REGEX),
                name="entity_start_date_iso",
            ),
            models.CheckConstraint(
                condition=Q(end_date="") | Q(end_date__regex=PARTIAL_DATE_REGEX),
                name="entity_end_date_iso",
            ),
            models.CheckConstraint(
                condition=Q(start_date="") | Q(end_date="") | Q(end_date__gte=F("start_date")),
                name="entity_end_after_start",
            ),
            # import_ftm: one entity per FtM id and dataset.
            models.UniqueConstraint(
                fields=["dataset", "ftm_id"],
                condition=~Q(ftm_id=""),
                name="entity_unique_ftm_id_per_dataset",
            ),
        ]
        indexes = [
            # The case's entity list, newest first.
            models.Index(fields=["investigation", "-updated_at"], name="entity_case_updated_idx"),
            models.Index(fields=["dataset", "name"], name="entity_dataset_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_person(self) -> bool:
        return self.schema == Schema.PERSON

    @property
    def start_label(self) -> str:
        return "Born" if self.is_person else "Incorporated"

    @property
    def end_label(self) -> str:
        return "Died" if self.is_person else "Dissolved"


class Identifier(models.Model):
    """A registration or tax number of an entity (scheme from entities.identifiers)."""

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="identifiers")
    scheme = models.CharField(max_length=20)
    value = models.CharField(max_length=64)

    class Meta:
        ordering = ["scheme", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "scheme", "value"], name="identifier_once_per_entity"
            ),
        ]
        indexes = [
            # "Same identifier in the same scope = same entity" and imports resolving parties.
            models.Index(fields=["scheme", "value"], name="identifier_lookup_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.scheme}: {self.value}"

    @property
    def scheme_label(self) -> str:
        """Kazakhstan BIN, not kz_bin."""
        return Scheme(self.scheme).label if self.scheme in Scheme.values else self.scheme


class Pin(TrackedModel):
    """A dataset entity brought into a case file, where it can be linked and cited."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="pins")
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="pins")
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["investigation", "entity"], name="pin_once_per_case"),
        ]

    def __str__(self) -> str:
        return f"pinned {self.entity}"

    @property
    def activity_investigation_id(self) -> int | None:
        return self.investigation_id


class LinkKind(models.TextChoices):
    """FtM interval schemata; source and target name the two ends as FtM does."""

    OWNERSHIP = "Ownership", "Ownership"
    DIRECTORSHIP = "Directorship", "Directorship"
    FAMILY = "Family", "Family"
    EMPLOYMENT = "Employment", "Employment"
    UNKNOWN = "UnknownLink", "Other link"


# (source property, target property, source label, target label) per kind, as in FtM.
LINK_ENDS: dict[str, tuple[str, str, str, str]] = {
    LinkKind.OWNERSHIP: ("owner", "asset", "Owner", "Owns"),
    LinkKind.DIRECTORSHIP: ("director", "organization", "Director", "Directs"),
    LinkKind.FAMILY: ("person", "relative", "Person", "Relative"),
    LinkKind.EMPLOYMENT: ("employee", "employer", "Employee", "Employer"),
    LinkKind.UNKNOWN: ("subject", "object", "Subject", "Object"),
}


class Link(ScopedModel):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=LinkKind.choices)
    source = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="links_in")
    percentage = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    shares = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    # Directorship / employment role, family relationship, or the label of an other link.
    role = models.CharField(max_length=200, blank=True)
    start_date = models.CharField(max_length=10, blank=True)
    end_date = models.CharField(max_length=10, blank=True)
    summary = models.TextField(blank=True)
    provenance = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    ftm_id = models.CharField(max_length=200, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            *ScopedModel.Meta.constraints,
            models.CheckConstraint(condition=Q(kind__in=LinkKind.values), name="link_kind_valid"),
            models.CheckConstraint(condition=~Q(source=F("target")), name="link_not_to_itself"),
            models.CheckConstraint(
                condition=Q(percentage__isnull=True) | Q(percentage__gte=0, percentage__lte=100),
                name="link_percentage_0_100",
            ),
            models.CheckConstraint(
                condition=Q(shares__isnull=True) | Q(shares__gte=0), name="link_shares_positive"
            ),
            models.CheckConstraint(
                condition=Q(start_date="") | Q(start_date__regex=PARTIAL_DATE_REGEX),
                name="link_start_date_iso",
            ),
            models.CheckConstraint(
                condition=Q(end_date="") | Q(end_date__regex=PARTIAL_DATE_REGEX),
                name="link_end_date_iso",
            ),
            models.CheckConstraint(
                condition=Q(start_date="") | Q(end_date="") | Q(end_date__gte=F("start_date")),
                name="link_end_after_start",
            ),
            models.UniqueConstraint(
                fields=["dataset", "ftm_id"],
                condition=~Q(ftm_id=""),
                name="link_unique_ftm_id_per_dataset",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} — {self.get_kind_display().lower()} — {self.target}"


class Shipment(ScopedModel):
    """One customs declaration line: who sent which goods where, when, for how much."""

    # A shipment table may hold millions of rows, and every index is paid for by every imported
    # row. The scope and party foreign keys therefore have no single-column index of their own:
    # the composite indexes in Meta start with them and serve their look-ups and cascades.
    investigation = models.ForeignKey(
        Investigation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="entities_shipment_set",
        db_index=False,
    )
    dataset = models.ForeignKey(
        Dataset,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="entities_shipment_set",
        db_index=False,
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    date = models.DateField()
    exporter = models.ForeignKey(
        Entity,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="exports",
        db_index=False,
    )
    importer = models.ForeignKey(
        Entity,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="imports",
        db_index=False,
    )
    origin_country = models.CharField(max_length=2, blank=True)
    destination_country = models.CharField(max_length=2, blank=True)
    dispatch_country = models.CharField(max_length=2, blank=True)
    hs_code = models.CharField(max_length=10)
    description = models.TextField(blank=True)
    quantity = models.DecimalField(max_digits=20, decimal_places=3, null=True, blank=True)
    unit = models.CharField(max_length=30, blank=True)
    value = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    declaration_number = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # imported rows have none: a partial index in Meta
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Natural key of an imported row (declaration + line, or a hash of the mapped row).
    import_key = models.CharField(max_length=100, blank=True)
    ftm_id = models.CharField(max_length=200, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            *ScopedModel.Meta.constraints,
            models.CheckConstraint(
                condition=Q(hs_code__regex=r"^[0-9]{2,10}$"), name="shipment_hs_code_digits"
            ),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__gte=0),
                name="shipment_quantity_positive",
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__gte=0), name="shipment_value_positive"
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | ~Q(currency=""),
                name="shipment_value_has_currency",
            ),
            models.UniqueConstraint(
                fields=["dataset", "import_key"],
                condition=~Q(import_key=""),
                name="shipment_unique_import_key_per_dataset",
            ),
            models.UniqueConstraint(
                fields=["dataset", "ftm_id"],
                condition=~Q(ftm_id=""),
                name="shipment_unique_ftm_id_per_dataset",
            ),
        ]
        indexes = [
            # An entity's shipments as exporter / importer, by date; totals by year.
            models.Index(fields=["exporter", "date"], name="shipment_exporter_date_idx"),
            models.Index(fields=["importer", "date"], name="shipment_importer_date_idx"),
            # The case's and the dataset's shipment tables, newest first. Each partial to its
            # scope: a dataset's rows are not entries in the case index, and vice versa.
            models.Index(
                fields=["investigation", "-date"],
                condition=Q(investigation__isnull=False),
                name="shipment_case_date_partial_idx",
            ),
            models.Index(
                fields=["dataset", "-date"],
                condition=Q(dataset__isnull=False),
                name="shipment_dataset_date_part_idx",
            ),
            # Setting a deleted user's rows to NULL; imported rows have no creator.
            models.Index(
                fields=["created_by"],
                condition=Q(created_by__isnull=False),
                name="shipment_created_by_idx",
            ),
            # HS prefix filters (hs_code LIKE '8542%').
            models.Index(
                OpClass("hs_code", name="varchar_pattern_ops"), name="shipment_hs_prefix_idx"
            ),
        ]

    def __str__(self) -> str:
        parties = f"{self.exporter or '?'} → {self.importer or '?'}"
        return f"{self.date} HS {self.hs_code} {parties}"

    @property
    def hs_chapter(self) -> str:
        return self.hs_code[:2]


class FlowSummary(models.Model):
    """A dataset's shipments summed by year, HS code, countries and currency.

    Kept by database triggers on entities_shipment (migration 0005), whatever writes the
    shipments: the trade-flows page of a million-row dataset reads a few thousand of these
    rows instead of aggregating every shipment. Rows are only ever changed by the triggers.
    A row whose shipments went to 0 may stay; readers skip it.
    """

    # No index of its own: the unique constraint below starts with it.
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="+", db_index=False)
    year = models.SmallIntegerField()
    hs_code = models.CharField(max_length=10)
    origin_country = models.CharField(max_length=2)
    destination_country = models.CharField(max_length=2)
    currency = models.CharField(max_length=3)
    # Sums of the non-NULL values; `valued` and `quantified` say how many there were, so that a
    # reader can tell "no value known" (NULL) from a total of 0.
    total = models.DecimalField(max_digits=30, decimal_places=2, default=0)
    quantity = models.DecimalField(max_digits=30, decimal_places=3, default=0)
    shipments = models.BigIntegerField(default=0)
    valued = models.BigIntegerField(default=0)
    quantified = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "dataset",
                    "year",
                    "hs_code",
                    "origin_country",
                    "destination_country",
                    "currency",
                ],
                name="flowsummary_one_row_per_group",
            )
        ]

    def __str__(self) -> str:
        return f"{self.year} HS {self.hs_code} {self.origin_country}→{self.destination_country}"


class SavedMapping(models.Model):
    """A column mapping saved by name, for the next file from the same source."""

    class Kind(models.TextChoices):
        SHIPMENTS = "shipments", "Shipments (customs records)"
        COMPANIES = "companies", "Companies (registry extract)"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # {"columns": {field: header}, "date_format": "...", "decimal_comma": null, "defaults": {}}
    spec = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImportJob(JobModel):
    """One file being imported into a dataset; the row is the Celery job (entities.run_import).

    The merge into the dataset is one transaction: a crash or a killed worker leaves nothing
    of the file behind, and the job is retried from the start.
    """

    task_name = "entities.run_import"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=SavedMapping.Kind.choices)
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="imports")
    original_name = models.CharField(max_length=300)
    # Storage name of the uploaded file (kept for re-runs and audit).
    file = models.CharField(max_length=300)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    mapping = models.JSONField(default=dict, blank=True)
    mapping_name = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Progress, updated while running (rows read so far of an estimated total).
    rows_total_estimate = models.BigIntegerField(null=True, blank=True)
    rows_read = models.BigIntegerField(default=0)
    rows_imported = models.BigIntegerField(default=0)
    rows_updated = models.BigIntegerField(default=0)
    rows_unchanged = models.BigIntegerField(default=0)
    rows_rejected = models.BigIntegerField(default=0)
    entities_created = models.BigIntegerField(default=0)
    seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"import of {self.original_name} into {self.dataset}"


class RejectedRow(models.Model):
    """A value an import refused: line and column in the file, the value, the reason."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejected")
    line = models.PositiveIntegerField()
    column = models.CharField(max_length=200)
    value = models.TextField()
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["line", "id"]
        indexes = [models.Index(fields=["job", "line"], name="rejectedrow_job_line_idx")]

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.reason}"


# The analysis package's rows (network layouts, red-flag runs and hits) live with their code.
from .analysis.models import FlagHit, FlagRun, NetworkLayout  # noqa: E402, F401
