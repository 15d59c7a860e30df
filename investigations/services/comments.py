"""Writes for comments, @mentions and the inbox.

A comment is about a claim or an entity (investigations/subjects.py). "@dana" mentions the
member whose username is dana: only members of that case file can be mentioned (their role is
asked of access.role_in, which answers for anyone, not only the person commenting), and a
mention of anyone else refuses the comment with a message, saving nothing.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from .. import access, activity, subjects
from ..access import Action
from ..errors import DomainError, NotAllowed
from ..models import Claim, Comment, InboxItem, Investigation

User = get_user_model()

# "@dana", "@d.kim", "@marat-2": after a space, a bracket or the start, never inside an address.
MENTION = re.compile(r"(?<![\w@.+-])@([\w][\w.+-]*[\w]|[\w])")
MAX_COMMENT_CHARS = 10_000


@dataclass
class Posted:
    comment: Comment
    mentioned: list[AbstractBaseUser] = field(default_factory=list)


def mentions_in(body: str) -> list[str]:
    """The usernames mentioned, in order, once each."""
    return list(dict.fromkeys(MENTION.findall(body or "")))


def mentioned_members(*, case: Investigation, body: str) -> list[AbstractBaseUser]:
    """The members mentioned in `body`; a name that is no member of the case is refused.

    An unknown username and a non-member read alike: the message tells nothing about accounts.
    """
    names = mentions_in(body)
    if not names:
        return []
    users = {
        u.get_username().lower(): u for u in User.objects.filter(username__in=names, is_active=True)
    }
    members = []
    for name in names:
        user = users.get(name.lower())
        if user is None or access.role_in(user, case) is None:
            raise DomainError(
                f"@{name} is not a member of this case file: only members can be mentioned.",
                field="body",
            )
        members.append(user)
    return members


def _subject_url(subject: Model, case: Investigation) -> str:
    if isinstance(subject, Claim):
        return subjects.claim_url(subject)
    kind = subjects.commentable_for_model(type(subject))
    url = kind.url(subject, case) if kind is not None else None
    return (url or "") + "#comments"


def notify_mentions(
    posted: Posted, *, skip: set[Any] = frozenset(), claim: Claim | None = None
) -> None:
    """An inbox item for each member mentioned (not the author, not those in `skip`)."""
    comment = posted.comment
    case = comment.investigation
    subject = comment.subject
    about = subject.statement if isinstance(subject, Claim) else str(subject)
    url = _subject_url(subject, case)
    items = [
        InboxItem(
            user=user,
            investigation=case,
            kind=InboxItem.Kind.MENTION,
            actor=comment.author,
            claim=claim if claim is not None else (subject if isinstance(subject, Claim) else None),
            comment=comment,
            about=about[:500],
            url=url[:500],
            excerpt=comment.body,
        )
        for user in posted.mentioned
        if user.pk not in skip and (comment.author is None or user.pk != comment.author_id)
    ]
    InboxItem.objects.bulk_create(items)


@transaction.atomic
def comment_add(
    *,
    case: Investigation,
    subject: Model,
    body: str,
    actor: AbstractBaseUser,
    notify: bool = True,
) -> Posted:
    """Comment on a claim or an entity of this case; members mentioned hear of it."""
    if not access.can(actor, Action.COMMENT, case):
        raise NotAllowed("Only members of this case file comment on it.")
    body = (body or "").strip()
    if not body:
        raise DomainError("Write a comment first.", field="body")
    if len(body) > MAX_COMMENT_CHARS:
        raise DomainError(
            f"A comment holds at most {MAX_COMMENT_CHARS:,} characters.", field="body"
        )
    mentioned = mentioned_members(case=case, body=body)
    with activity.acting_as(actor):
        comment = Comment.objects.create(
            investigation=case,
            subject_type=subjects.content_type(subject),
            subject_id=subject.pk,
            author=actor,
            body=body,
        )
    comment.subject = subject
    comment.investigation = case
    posted = Posted(comment, mentioned)
    if notify:
        notify_mentions(posted)
    return posted


def inbox_mark_read(*, user: AbstractBaseUser, item_ids: list[int] | None = None) -> int:
    """Mark my inbox items read (these, or all); returns how many changed."""
    qs = InboxItem.objects.filter(user=user, read_at__isnull=True)
    if item_ids is not None:
        qs = qs.filter(pk__in=item_ids)
    return qs.update(read_at=timezone.now())
