import uuid
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models.functions import Lower


class Role(models.TextChoices):
    """A member's role in one case file. What each role may do lives in access.py."""

    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    REPORTER = "reporter", "Reporter"
    VIEWER = "viewer", "Viewer"


class TrackedModel(models.Model):
    """A model whose creates, updates and deletes go into its case file's activity log.

    Remembers the values it was loaded with, so an update records only the fields that changed
    without re-reading the row (see investigations/activity.py).
    """

    class Meta:
        abstract = True

    _loaded_values: dict[str, Any] | None = None
    # Set by the activity log's post_save receiver: the values before the save being signalled.
    _values_before_save: dict[str, Any] | None = None

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        instance = super().from_db(db, field_names, values, **kwargs)
        instance._loaded_values = dict(zip(field_names, values, strict=True))
        return instance

    @property
    def activity_investigation_id(self) -> int | None:
        raise NotImplementedError


class CaseOwnedModel(TrackedModel):
    """Base of every row that belongs to one case file.

    The non-null investigation key makes access one join; subclassing this is all a new model
    needs for its changes to appear in the case's activity feed.
    """

    investigation = models.ForeignKey(
        "investigations.Investigation",
        on_delete=models.CASCADE,
        related_name="%(app_label)s_%(class)s_set",
    )

    class Meta:
        abstract = True

    @property
    def activity_investigation_id(self) -> int | None:
        return self.investigation_id


class Investigation(TrackedModel):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    # URLs carry this, never the primary key or the title: a case's name in a URL leaks into
    # logs and referrers.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=200)
    # For management commands (export_ftm CASE, capture --case CASE); never shown in URLs.
    slug = models.SlugField(max_length=80, unique=True)
    summary = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def activity_investigation_id(self) -> int | None:
        return self.pk


class Membership(CaseOwnedModel):
    investigation = models.ForeignKey(
        "investigations.Investigation", on_delete=models.CASCADE, related_name="memberships"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["investigation", "user"], name="membership_one_per_user_and_case"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]
        indexes = [
            # "which case files may this user see": visible_investigations() and get_case_for().
            models.Index(fields=["user", "investigation"], name="membership_user_case_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.get_role_display().lower()}"


class Invitation(CaseOwnedModel):
    """A role in a case file offered to an e-mail address; accepted when its owner logs in.

    Adding by e-mail records one of these whether or not an account has the address, so the
    add-member form never tells anyone who has an account (investigations/services/__init__.py).
    """

    investigation = models.ForeignKey(
        "investigations.Investigation", on_delete=models.CASCADE, related_name="invitations"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Stored lower-case: addresses are matched case-insensitively.
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=16, choices=Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One pending invitation per address and case file; it also serves "pending
            # invitations for this address" when someone logs in.
            models.UniqueConstraint(
                fields=["email", "investigation"],
                condition=models.Q(accepted_at__isnull=True),
                name="invitation_one_pending_per_email_and_case",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="invitation_role_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")),
                name="invitation_email_lower_case",
            ),
        ]

    def __str__(self) -> str:
        return f"invitation for {self.email} as {self.get_role_display().lower()}"


class ActivityEntry(models.Model):
    """One create, update or delete of case-file data: who, when, what object, which fields."""

    class Action(models.TextChoices):
        CREATED = "created", "created"
        UPDATED = "updated", "updated"
        DELETED = "deleted", "deleted"

    investigation = models.ForeignKey(
        Investigation, on_delete=models.CASCADE, related_name="activity"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept so the log still says who acted after the account is deleted; "system" for workers.
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=16, choices=Action.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=300)
    # The object as it is now (None once deleted): the feed reads a job's outcome from it.
    target = GenericForeignKey("content_type", "object_id")
    # {"field name": {"from": old, "to": new}}; on delete, the last values worth keeping.
    changes = models.JSONField(default=dict, blank=True)
    # What the entry is about, as "app_label.model:pk": the object itself and, for a link,
    # citation or shipment, the entities it names (investigations/activity_text.py).
    refs = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The case's activity feed, newest first, paginated.
            models.Index(
                "investigation",
                models.F("created_at").desc(),
                models.F("id").desc(),
                name="activity_case_newest_idx",
            ),
            # An entity's activity: entries whose refs contain it (refs @> ARRAY[...]).
            GinIndex(fields=["refs"], name="activity_refs_gin"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.action} {self.object_repr}"


# --- The editor's half: timeline, claims, comments, inbox -----------------------------------
# How derived events reach the timeline and what a claim may point at is explained in
# investigations/timeline.py and investigations/claim_targets.py.

PARTIAL_DATE_REGEX = r"^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$"


class Precision(models.TextChoices):
    """How exactly an event's date is known: the form it was written in (2022, 2022-04, ...)."""

    DAY = "day", "Day"
    MONTH = "month", "Month"
    YEAR = "year", "Year"


class TimelineEvent(CaseOwnedModel):
    """A dated event of a case file: written by a reporter, or derived from the case's data.

    Derived events are rows too (materialised by investigations/timeline.py from the sources
    entities and evidence register), so a 5,000-event page is one indexed, paginated query.
    They are written in bulk and never logged: the data they come from is.
    """

    WRITTEN = "written"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # "written", or a derived kind a source registered ("incorporation", "shipments", ...).
    kind = models.CharField(max_length=40, default=WRITTEN)
    # ISO dates that may be partial, as written ("2022", "2022-04", "2022-04-07").
    start = models.CharField("date", max_length=10)
    end = models.CharField("until", max_length=10, blank=True)
    precision = models.CharField(max_length=5, choices=Precision.choices, default=Precision.DAY)
    # The first day of `start` and the last day of `end` (or of `start`): order and filters.
    starts_on = models.DateField()
    ends_on = models.DateField()
    title = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    # Entities involved, by primary key (no foreign key: investigations holds no key into
    # entities). Their names are loaded for a page at once (timeline.entity_refs).
    entity_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    # Derived events only: a key stable for the datum ("entities.link:12:start"), and the row
    # it comes from (none for a month of shipments) with the field it reads.
    # NULL for written events: NULLs are distinct, so the unique constraint (which bulk upserts
    # name in ON CONFLICT) needs no condition.
    source_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    source_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    source_id = models.BigIntegerField(null=True, blank=True)
    source_field = models.CharField(max_length=40, blank=True)
    # What a derived event adds up (a month of shipments: count, quantities, values).
    facts = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    claims = GenericRelation(
        "investigations.Claim", content_type_field="target_type", object_id_field="target_id"
    )

    class Meta:
        constraints = [
            # One derived event per datum and case (NULLs, the written events, are distinct).
            models.UniqueConstraint(
                fields=["investigation", "source_key"], name="timelineevent_one_per_source"
            ),
            models.CheckConstraint(
                condition=models.Q(kind="written", source_key__isnull=True)
                | (~models.Q(kind="written") & models.Q(source_key__isnull=False)),
                name="timelineevent_written_or_derived",
            ),
            models.CheckConstraint(
                condition=models.Q(start__regex=PARTIAL_DATE_REGEX),
                name="timelineevent_start_iso",
            ),
            models.CheckConstraint(
                condition=models.Q(end="") | models.Q(end__regex=PARTIAL_DATE_REGEX),
                name="timelineevent_end_iso",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="timelineevent_end_after_start",
            ),
        ]
        indexes = [
            # The case's timeline, in date order, paginated.
            models.Index(
                fields=["investigation", "starts_on", "id"], name="timelineevent_case_date_idx"
            ),
            # An entity's timeline: events whose entity_ids contain it.
            GinIndex(fields=["entity_ids"], name="timelineevent_entities_gin"),
            # A source's events, when its row changes or goes.
            models.Index(fields=["source_type", "source_id"], name="timelineevent_source_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_written(self) -> bool:
        return self.kind == self.WRITTEN


class ClaimStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    NEEDS_REVIEW = "needs_review", "Needs review"
    VERIFIED = "verified", "Verified"
    DISPUTED = "disputed", "Disputed"


class Claim(CaseOwnedModel):
    """A piece of the case marked for publication: a timeline event, a link, a shipment or an
    entity field, reviewed against its evidence (draft -> needs review -> verified | disputed).

    The target is a generic reference: what kinds may be claimed, how they read and where their
    evidence is, is registered by their apps (investigations/claim_targets.py).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_id = models.BigIntegerField()
    target = GenericForeignKey("target_type", "target_id")
    # An entity field ("start_date") when the claim is about one field; "" for the whole row.
    field = models.CharField(max_length=40, blank=True)
    statement = models.CharField("claim", max_length=500)
    status = models.CharField(max_length=16, choices=ClaimStatus.choices, default=ClaimStatus.DRAFT)
    # Why the status last changed, as the feed and the review screen say it: the dispute's
    # comment, "its start date changed", "its last citation was removed".
    status_reason = models.TextField("reason", blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_requested_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # A datum is one claim per case file (a pinned entity may be claimed in two).
            models.UniqueConstraint(
                fields=["investigation", "target_type", "target_id", "field"],
                name="claim_once_per_target",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ClaimStatus.values), name="claim_status_valid"
            ),
        ]
        indexes = [
            # The editor's queue: claims waiting for review across my case files, oldest first.
            models.Index(
                fields=["status", "review_requested_at"],
                condition=models.Q(status="needs_review"),
                name="claim_waiting_idx",
            ),
            # A case's claims by status (readiness, the claims list, the report).
            models.Index(fields=["investigation", "status"], name="claim_case_status_idx"),
            # Claims on one row: the timeline's status column, reopening after an edit.
            models.Index(fields=["target_type", "target_id"], name="claim_target_idx"),
        ]

    def __str__(self) -> str:
        return self.statement


class Comment(CaseOwnedModel):
    """A comment on a claim or an entity; @username mentions of members reach their inbox."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    subject_id = models.BigIntegerField()
    subject = GenericForeignKey("subject_type", "subject_id")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField("comment")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # A claim's or an entity's thread, oldest first.
            models.Index(
                fields=["subject_type", "subject_id", "created_at"], name="comment_subject_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.body[:80]


class InboxItem(models.Model):
    """Something one person should look at: a mention, a review request, a review's outcome.

    Not case data (nothing to log); shown only while its owner is still a member of the case.
    """

    class Kind(models.TextChoices):
        MENTION = "mention", "Mention"
        REVIEW_REQUEST = "review_request", "Review request"
        VERIFIED = "verified", "Verified"
        DISPUTED = "disputed", "Disputed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_items"
    )
    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    claim = models.ForeignKey(Claim, null=True, blank=True, on_delete=models.CASCADE)
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.CASCADE)
    # What it is about, as it read when it was sent (a claim's statement, an entity's name).
    about = models.CharField(max_length=500)
    # Where it leads (a claim's review page, an entity's page), case-scoped.
    url = models.CharField(max_length=500)
    excerpt = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # My inbox, newest first.
            models.Index(fields=["user", "-created_at", "-id"], name="inbox_user_newest_idx"),
            # The header's unread count.
            models.Index(
                fields=["user"], condition=models.Q(read_at__isnull=True), name="inbox_unread_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.user}: {self.about}"
