"""The locked door: the one module that decides who may see and do what in a case file.

Views, querysets, templates ({% if case.user_role|role_allows:"write" %}), DRF permissions and
views that trigger Celery work all ask here. A non-member and a missing object look the same (404);
403 is only for a member whose role does not allow the action.
"""

from enum import StrEnum
from typing import Any
from uuid import UUID

from django.apps import apps
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, OuterRef, QuerySet, Subquery, Value
from django.http import Http404

from .models import CaseOwnedModel, Investigation, Membership, Role

User = AbstractBaseUser | AnonymousUser


class Action(StrEnum):
    VIEW = "view"  # read everything in the case file
    WRITE = "write"  # add and change case data: entities, links, evidence, claims
    REVIEW = "review"  # verify or dispute timeline claims
    COMMENT = "comment"  # comment on claims and entities, be mentioned
    MANAGE = "manage"  # members, roles, case settings, deleting evidence


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.VIEWER: frozenset({Action.VIEW, Action.COMMENT}),
    Role.REPORTER: frozenset({Action.VIEW, Action.COMMENT, Action.WRITE}),
    Role.EDITOR: frozenset({Action.VIEW, Action.COMMENT, Action.WRITE, Action.REVIEW}),
    Role.OWNER: frozenset(Action),
}

# Set on investigations loaded through this module so later checks need no query: the role, and
# whose role it is. A case loaded for Alice must never answer for Bob (mentions and inboxes ask
# about other people than the one who loaded the page).
ROLE_ATTR = "user_role"
ROLE_USER_ATTR = "user_role_for"
# Roles of other users asked about after loading, per instance: {user pk: role or None}.
_OTHER_ROLES_ATTR = "_roles_by_user"


def _authenticated(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def visible_investigations(user: User | None) -> QuerySet[Investigation]:
    """The case files this user may see, each annotated with the user's role (and whose it is).

    Membership is the only way in: staff and superusers see no case file they are not in.
    """
    if not _authenticated(user):
        return Investigation.objects.none()
    role = Membership.objects.filter(investigation=OuterRef("pk"), user=user).values("role")[:1]
    return Investigation.objects.annotate(
        **{ROLE_ATTR: Subquery(role), ROLE_USER_ATTR: Value(user.pk)}
    ).filter(**{f"{ROLE_ATTR}__isnull": False})


def reviewing_investigations(user: User | None) -> QuerySet[Investigation]:
    """The case files in which this user verifies and disputes claims (editor or owner)."""
    roles = [role for role, actions in ROLE_ACTIONS.items() if Action.REVIEW in actions]
    return visible_investigations(user).filter(**{f"{ROLE_ATTR}__in": roles})


def role_in(user: User | None, investigation: Investigation) -> str | None:
    """The user's role in this case file, or None for a non-member.

    The role loaded with the case answers only for the user it was loaded for; anyone else's is
    read from the database (once per instance).
    """
    if not _authenticated(user):
        return None
    loaded_for = getattr(investigation, ROLE_USER_ATTR, None)
    if loaded_for == user.pk:
        return getattr(investigation, ROLE_ATTR, None)
    others: dict[Any, str | None] = investigation.__dict__.setdefault(_OTHER_ROLES_ATTR, {})
    if user.pk not in others:
        others[user.pk] = (
            Membership.objects.filter(investigation=investigation, user=user)
            .values_list("role", flat=True)
            .first()
        )
    if loaded_for is None:  # loaded without a role (e.g. through a foreign key): now this user's
        setattr(investigation, ROLE_ATTR, others[user.pk])
        setattr(investigation, ROLE_USER_ATTR, user.pk)
    return others[user.pk]


def can(user: User | None, action: Action | str, investigation: Investigation) -> bool:
    role = role_in(user, investigation)
    return role is not None and Action(action) in ROLE_ACTIONS[role]


def check(user: User | None, action: Action | str, investigation: Investigation) -> None:
    """Raise 404 for a non-member and 403 for a member whose role does not allow `action`."""
    role = role_in(user, investigation)
    if role is None:
        raise Http404("No such case file")
    if Action(action) not in ROLE_ACTIONS[role]:
        raise PermissionDenied(f"Your role ({role}) does not allow this ({action}).")


def parse_public_id(value: Any) -> UUID:
    """The UUID in a URL or form value; anything else is a 404, like an id that matches nothing."""
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except (ValueError, TypeError, AttributeError) as exc:
        raise Http404("Not found") from exc


def get_case_for(
    user: User | None, public_id: UUID | str, action: Action | str = Action.VIEW
) -> Investigation:
    """Load a case file by public id for this user, or raise 404 (non-member) / 403 (role)."""
    case = (
        visible_investigations(user)
        .select_related("created_by")
        .filter(public_id=parse_public_id(public_id))
        .first()
    )
    if case is None:
        raise Http404("No such case file")
    check(user, action, case)
    return case


def scoped[M: CaseOwnedModel](user: User | None, queryset: QuerySet[M]) -> QuerySet[M]:
    """Restrict any queryset of case-owned rows to the case files this user may see."""
    return queryset.filter(investigation__in=visible_investigations(user).values("pk"))


def get_case_object_for[M: CaseOwnedModel](
    user: User | None,
    queryset: QuerySet[M] | type[M],
    *,
    case: Investigation,
    public_id: UUID | str,
    action: Action | str = Action.VIEW,
) -> M:
    """Load a case-owned object that must belong to `case` (already loaded via get_case_for).

    An object of another case file is a 404 even for a member of that other case file: URLs
    are /cases/<case>/<thing>/<id>/ and both halves must agree.
    """
    check(user, action, case)
    qs = queryset.objects.all() if isinstance(queryset, type) else queryset
    try:
        return qs.get(investigation=case, public_id=parse_public_id(public_id))
    except (qs.model.DoesNotExist, ValidationError) as exc:
        raise Http404("No such object") from exc


def visible_datasets(user: User | None) -> QuerySet[Any]:
    """The shared datasets this user may read: every one, for any logged-in user."""
    # investigations imports neither entities nor evidence (DESIGN.md): the model by name.
    dataset_model = apps.get_model("entities", "Dataset")
    if not _authenticated(user):
        return dataset_model.objects.none()
    return dataset_model.objects.all()


def get_dataset_for(user: User | None, public_id: UUID | str) -> Model:
    """Load a dataset by public id for this user, or raise 404."""
    dataset = visible_datasets(user).filter(public_id=parse_public_id(public_id)).first()
    if dataset is None:
        raise Http404("No such dataset")
    return dataset


def require_staff(user: User | None) -> None:
    """Shared reference data (imports, datasets) is managed by staff only."""
    if not (_authenticated(user) and user.is_staff):
        raise Http404("Not found")
