"""The search tables of names: every name of an entity, its match keys, and the words in use.

Kept apart from entities.models (which imports them) because they are derived data: rebuilt by
entities.namekeys whenever names change, never edited by hand. The scope columns are copied
from the entity so a search filters and ranks without joining the entities.
"""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q

from .names import NameKind


class EntityName(models.Model):
    """Every name and alias of an entity, normalized (entities.names.normalize)."""

    entity = models.ForeignKey(
        "entities.Entity", on_delete=models.CASCADE, related_name="name_forms"
    )
    investigation = models.ForeignKey(
        "investigations.Investigation", null=True, on_delete=models.CASCADE, related_name="+"
    )
    dataset = models.ForeignKey(
        "entities.Dataset", null=True, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=500)
    norm = models.CharField(max_length=500)

    class Meta:
        indexes = [
            # Entity lists filtered by a name (norm LIKE '%...%'), and the benchmark's bare
            # word_similarity query.
            GinIndex(OpClass("norm", name="gin_trgm_ops"), name="entityname_norm_trgm"),
            # Equal normalized names (batch screening's exact branch).
            models.Index(fields=["norm"], name="entityname_norm_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class NameKey(models.Model):
    """One match key of an entity's names (entities.names.name_keys), once per entity.

    Search and possible duplicates look keys up by (kind, key) and the case file; dataset rows
    have no case file, so "investigation_id IS NULL" is a range of the same index.
    """

    entity = models.ForeignKey("entities.Entity", on_delete=models.CASCADE, related_name="+")
    investigation = models.ForeignKey(
        "investigations.Investigation",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the partial index below serves the cascade
    )
    dataset = models.ForeignKey(
        "entities.Dataset",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        # Deleting a dataset is rare: a scan then costs less than an index on every key.
        db_index=False,
    )
    kind = models.SmallIntegerField(choices=NameKind.choices)
    key = models.CharField(max_length=200)

    class Meta:
        indexes = [
            # Search, possible duplicates and the importer: kind = k AND key = x, in my case
            # files or in the datasets, without visiting the table.
            models.Index(
                fields=["kind", "key", "investigation"],
                include=["entity", "dataset"],
                name="namekey_lookup_idx",
            ),
            # Deleting a case file's keys.
            models.Index(
                fields=["investigation"],
                condition=Q(investigation__isnull=False),
                name="namekey_case_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.key}"


class NameToken(models.Model):
    """A word (skeleton, 3+ letters) of some name of a case file or of the datasets, with its
    one-letter deletions: a query word that is not here is corrected to the words that share a
    deletion with it (one letter wrong, missing, added, or two swapped).

    Filled by a trigger on entities_namekey (migration 0007) from the TOKEN keys every writer
    inserts; a word is never removed (a stale one only offers a correction that finds nothing).
    """

    token = models.CharField(max_length=200)
    investigation = models.ForeignKey(
        "investigations.Investigation",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the unique index (token, investigation) leads with the token
    )
    deletions = ArrayField(models.CharField(max_length=200))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["token", "investigation"],
                nulls_distinct=False,
                name="nametoken_once_per_scope",
            ),
        ]
        indexes = [
            # Typo correction: deletions && the query word's deletions.
            GinIndex(fields=["deletions"], name="nametoken_deletions_gin"),
            models.Index(
                fields=["investigation"],
                condition=Q(investigation__isnull=False),
                name="nametoken_case_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.token
