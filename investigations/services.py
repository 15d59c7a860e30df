"""Writes for case files and membership. Each public function owns its transaction."""

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from .errors import Conflict, DomainError
from .models import Investigation, Membership, Role

User = get_user_model()


def _unique_slug(title: str) -> str:
    base = (slugify(title, allow_unicode=False) or "case")[:70].strip("-") or "case"
    slug, n = base, 1
    while Investigation.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def investigation_create(
    *, title: str, summary: str = "", created_by: AbstractBaseUser, slug: str | None = None
) -> Investigation:
    """Create a case file; its creator becomes its first owner."""
    title = title.strip()
    if not title:
        raise DomainError("A case file needs a title.", field="title")
    if slug and Investigation.objects.filter(slug=slug).exists():
        raise Conflict(f"The slug {slug!r} is taken.", field="slug")
    case = Investigation.objects.create(
        title=title,
        summary=summary.strip(),
        created_by=created_by,
        slug=slug or _unique_slug(title),
    )
    Membership.objects.create(
        investigation=case, user=created_by, role=Role.OWNER, added_by=created_by
    )
    return case


@transaction.atomic
def investigation_update(
    *, investigation: Investigation, title: str, summary: str, status: str
) -> Investigation:
    """Change a case file's title, summary or status (owners only; the view checks)."""
    if not title.strip():
        raise DomainError("A case file needs a title.", field="title")
    if status not in Investigation.Status.values:
        raise DomainError(f"Unknown status {status!r}.", field="status")
    investigation.title = title.strip()
    investigation.summary = summary.strip()
    investigation.status = status
    investigation.save()
    return investigation


def user_find(identifier: str) -> AbstractBaseUser:
    """The active user with this username or e-mail address (case-insensitive)."""
    identifier = identifier.strip()
    if not identifier:
        raise DomainError("Give a username or an e-mail address.", field="user")
    field = "email__iexact" if "@" in identifier else "username__iexact"
    matches = list(User.objects.filter(**{field: identifier, "is_active": True})[:2])
    if not matches:
        raise DomainError(f"No active user {identifier!r}.", field="user")
    if len(matches) > 1:
        raise DomainError(
            f"More than one user has the e-mail {identifier!r}; use the username.", field="user"
        )
    return matches[0]


@transaction.atomic
def investigation_add_member(
    *,
    investigation: Investigation,
    user: AbstractBaseUser,
    role: str,
    actor: AbstractBaseUser,
) -> Membership:
    """Give a user a role in a case file."""
    if role not in Role.values:
        raise DomainError(f"Unknown role {role!r}.", field="role")
    if Membership.objects.filter(investigation=investigation, user=user).exists():
        raise Conflict(f"{user.get_username()} is already a member.", field="user")
    try:
        with transaction.atomic():
            return Membership.objects.create(
                investigation=investigation, user=user, role=role, added_by=actor
            )
    except IntegrityError as exc:  # a concurrent add won the race
        raise Conflict(f"{user.get_username()} is already a member.", field="user") from exc


def _lock_owners(investigation: Investigation) -> list[int]:
    """Lock the case's owner rows (in primary-key order) so two demotions cannot race."""
    return list(
        Membership.objects.select_for_update()
        .filter(investigation=investigation, role=Role.OWNER)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str) -> Membership:
    """Change a member's role; the last owner cannot stop being one."""
    if role not in Role.values:
        raise DomainError(f"Unknown role {role!r}.", field="role")
    owners = _lock_owners(membership.investigation)
    membership.refresh_from_db()
    if membership.role == Role.OWNER and role != Role.OWNER and owners == [membership.pk]:
        raise DomainError("A case file needs at least one owner: make someone else owner first.")
    if membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    """Remove a member; the last owner cannot be removed."""
    owners = _lock_owners(membership.investigation)
    if owners == [membership.pk]:
        raise DomainError("The last owner cannot be removed: make someone else owner first.")
    membership.delete()
