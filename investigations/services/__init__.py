"""Writes for case files, membership and invitations. Each public function owns its transaction."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.text import slugify

from .. import activity, throttle
from ..errors import Conflict, DomainError
from ..models import Investigation, Invitation, Membership, Role

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


def _create_or_conflict[M: Model](model: type[M], message: str, **fields: Any) -> M:
    """Create a row a unique constraint guards; a concurrent request that won is a Conflict."""
    try:
        with transaction.atomic():
            return model.objects.create(**fields)
    except IntegrityError as exc:
        raise Conflict(message, field="user") from exc


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise DomainError(f"Unknown role {role!r}.", field="role")


def _member_add_limit() -> throttle.Limit:
    window = settings.MEMBER_ADD_WINDOW_SECONDS
    return throttle.Limit("member-add", settings.MEMBER_ADDS_PER_WINDOW, window, window)


def _active_user_named(username: str) -> AbstractBaseUser | None:
    """The active user with this username: exactly as typed, else the one that differs in case."""
    matches = list(User.objects.filter(username__iexact=username, is_active=True)[:2])
    exact = [u for u in matches if u.get_username() == username]
    return exact[0] if exact else (matches[0] if len(matches) == 1 else None)


def member_add_or_invite(
    *, investigation: Investigation, identifier: str, role: str, actor: AbstractBaseUser
) -> Membership | Invitation:
    """Add a colleague by username at once, or invite an e-mail address (accepted at log-in).

    The answer never tells whether an account exists: an address is never looked up, and an
    unknown username reads like a typo. Attempts are counted per actor, known and unknown alike
    (MEMBER_ADDS_PER_WINDOW per MEMBER_ADD_WINDOW_SECONDS), so the form is no directory.
    """
    identifier = identifier.strip()
    if not identifier:
        raise DomainError("Give a username or an e-mail address.", field="user")
    limit = _member_add_limit()
    if throttle.reached(limit, str(actor.pk)):
        raise DomainError(
            "Too many people added or invited in a short time: try again in "
            f"{throttle.minutes(limit.lockout)}.",
            field="user",
        )
    throttle.hit(limit, str(actor.pk))
    if "@" in identifier:
        return invitation_create(
            investigation=investigation, email=identifier, role=role, actor=actor
        )
    user = _active_user_named(identifier)
    if user is None:
        raise DomainError(
            f"Could not add “{identifier}”: check the username, or invite by e-mail.",
            field="user",
        )
    return investigation_add_member(investigation=investigation, user=user, role=role, actor=actor)


@transaction.atomic
def investigation_add_member(
    *,
    investigation: Investigation,
    user: AbstractBaseUser,
    role: str,
    actor: AbstractBaseUser,
) -> Membership:
    """Give a user a role in a case file."""
    _check_role(role)
    if Membership.objects.filter(investigation=investigation, user=user).exists():
        raise Conflict(f"{user.get_username()} is already a member.", field="user")
    return _create_or_conflict(
        Membership,
        f"{user.get_username()} is already a member.",
        investigation=investigation,
        user=user,
        role=role,
        added_by=actor,
    )


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
    _check_role(role)
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


# --- Invitations ----------------------------------------------------------------------------


@transaction.atomic
def invitation_create(
    *, investigation: Investigation, email: str, role: str, actor: AbstractBaseUser
) -> Invitation:
    """Record that whoever logs in with this e-mail address joins the case file in this role."""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise DomainError(f"“{email}” is not an e-mail address.", field="user") from exc
    _check_role(role)
    # Members' addresses are on the members page already: saying so tells nothing new.
    if Membership.objects.filter(investigation=investigation, user__email__iexact=email).exists():
        raise Conflict(f"A member of this case file has the address {email}.", field="user")
    return _create_or_conflict(
        Invitation,
        f"{email} is already invited to this case file.",
        investigation=investigation,
        email=email,
        role=role,
        invited_by=actor,
    )


@transaction.atomic
def invitation_cancel(*, invitation: Invitation) -> None:
    """Withdraw a pending invitation (owners only; the view checks)."""
    if invitation.accepted_at is not None:
        raise DomainError(f"{invitation.email} has accepted already: remove the member instead.")
    invitation.delete()


def invitations_accept(*, user: AbstractBaseUser) -> list[Membership]:
    """Turn the pending invitations for this user's e-mail address into memberships.

    Called at log-in and on the case list. Accounts are made by staff (there is no sign-up), so
    an account's address is trusted as verified. An invitation for an address no account has
    stays pending.
    """
    email = (getattr(user, "email", "") or "").strip().lower()
    if not (email and user.is_active):
        return []
    # The common case is nothing pending: one indexed query, no transaction.
    if not Invitation.objects.filter(email=email, accepted_at__isnull=True).exists():
        return []
    return _accept_pending(user=user, email=email)


@transaction.atomic
def _accept_pending(*, user: AbstractBaseUser, email: str) -> list[Membership]:
    joined = []
    pending = (
        Invitation.objects.select_for_update()
        .filter(email=email, accepted_at__isnull=True)
        .order_by("pk")
    )
    with activity.acting_as(user):  # the log says the person joined, at whoever's invitation
        for invitation in pending:
            invitation.accepted_at = timezone.now()
            invitation.save(update_fields=["accepted_at"])
            membership, created = Membership.objects.get_or_create(
                investigation_id=invitation.investigation_id,
                user=user,
                defaults={"role": invitation.role, "added_by_id": invitation.invited_by_id},
            )
            if created:
                joined.append(membership)
    return joined
