"""The case overview's counts and cards: apps add theirs here, the view never changes.

An app registers, from its AppConfig.ready():
- a count: register_count(Count(key, label, icon, url_name, models)): how many rows of the
  case file (entities, links, shipments, documents, snapshots), each a link to its page. All
  counts are computed in one query.
- a card: register_card(Card(key, template, context)): a panel of its own (claims by status,
  open flags), rendered with {"case": ..., "card": <what context(case) returned>}; when
  context returns None (nothing to show) the card is left out.
investigations imports no app: entities and evidence register theirs.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import BigIntegerField, F, Func, Model, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse

from .models import Investigation


@dataclass(frozen=True)
class Count:
    """Rows of these case-owned models in the case file (added up), optionally filtered."""

    key: str
    label: str
    icon: str
    url_name: str  # a case-scoped URL name, reversed with case_id
    models: tuple[type[Model], ...]  # each has an `investigation` foreign key
    order: int = 100
    where: dict[str, Any] = field(default_factory=dict)  # e.g. {"status": "open"}
    query: str = ""  # appended to the URL (e.g. "?status=open")

    def querysets(self, case: Investigation) -> list[QuerySet]:
        return [m._default_manager.filter(investigation=case, **self.where) for m in self.models]


@dataclass(frozen=True)
class Card:
    key: str
    template: str
    context: Callable[[Investigation], Any]  # None: nothing to show, no card
    order: int = 100


@dataclass
class CountView:
    key: str
    label: str
    icon: str
    url: str
    value: int


_COUNTS: dict[str, Count] = {}
_CARDS: dict[str, Card] = {}


def register_count(count: Count) -> None:
    _COUNTS[count.key] = count


def register_card(card: Card) -> None:
    _CARDS[card.key] = card


def unregister(key: str) -> None:
    """For tests that register a card of their own."""
    _COUNTS.pop(key, None)
    _CARDS.pop(key, None)


def _count(qs: QuerySet) -> Coalesce:
    rows = qs.order_by().annotate(_n=Func(F("pk"), function="COUNT")).values("_n")
    return Coalesce(Subquery(rows, output_field=BigIntegerField()), Value(0))


def counts(case: Investigation) -> list[CountView]:
    """Every registered count for this case file, in one query."""
    registered = sorted(_COUNTS.values(), key=lambda c: (c.order, c.key))
    if not registered:
        return []
    expressions = {}
    for c in registered:
        parts = [_count(qs) for qs in c.querysets(case)]
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        expressions[f"count_{c.key}"] = total
    values = Investigation.objects.filter(pk=case.pk).values(**expressions).get()
    return [
        CountView(
            key=c.key,
            label=c.label,
            icon=c.icon,
            url=reverse(c.url_name, kwargs={"case_id": case.public_id}) + c.query,
            value=values[f"count_{c.key}"],
        )
        for c in registered
    ]


def cards(case: Investigation) -> list[tuple[Card, Any]]:
    """The registered cards that have something to show, with what they show."""
    shown = []
    for card in sorted(_CARDS.values(), key=lambda c: (c.order, c.key)):
        data = card.context(case)
        if data is not None:
            shown.append((card, data))
    return shown
