import uuid
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
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
    add-member form never tells anyone who has an account (investigations/services.py).
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
