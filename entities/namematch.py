"""Scoring a name against a query, and the keys a query looks up (entities.names' keys).

The search (entities.search) finds candidates by match keys in SQL, then scores each of their
names here and says why it matched. Words are paired one to one, best pairs first: the same
skeleton (entities.names.skeleton) counts 1.0, a word against its initial 0.9, words one edit
apart with the same first letter (Damerau-Levenshtein: a swap of two letters is one edit; two
edits for words of 8 letters or more) 0.85 or 0.75, words that sound alike (Double Metaphone)
0.6 to 0.9 as their spellings are close. A word of the name the query leaves out (a patronymic)
costs a third of a word. Learnt from nomenklatura's logic-v2 and rigour's compare_parts: pair
the parts, score each pair, let confusable spellings cost less than other edits.
"""

import re
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache
from itertools import combinations, product

from rapidfuzz.distance import DamerauLevenshtein

from .identifiers import _compact_chars
from .names import (
    CYRILLIC,
    NameKind,
    Spelling,
    initial,
    initials_keys,
    is_initial,
    skeleton,
    sound,
    spellings,
)


class Reason(IntEnum):
    """Why a name matched, weakest evidence last; a hit shows the weakest of its words."""

    IDENTIFIER = 0
    SAME = 1
    TRANSLITERATION = 2
    PART = 3
    INITIALS = 4
    SOUNDS = 5
    TYPO = 6

    @property
    def label(self) -> str:
        return REASON_LABELS[self]


REASON_LABELS = {
    Reason.IDENTIFIER: "same identifier",
    Reason.SAME: "same name",
    Reason.TRANSLITERATION: "transliteration",
    Reason.PART: "part of the name",
    Reason.INITIALS: "initials",
    Reason.SOUNDS: "sounds alike",
    Reason.TYPO: "typo",
}
MISSING_WORD_COST = 0.35
MIN_SCORE = 0.5


@dataclass(frozen=True)
class Lookup:
    """One key to look up: kind, key, weight of a hit, most entities to take."""

    kind: int
    key: str
    weight: float
    cap: int


@dataclass
class Query:
    text: str
    spellings: tuple[Spelling, ...]
    identifier: str  # compact form when the query may be an identifier value, else ""
    corrections: dict[str, list[str]] = field(default_factory=dict)

    @property
    def words(self) -> list[str]:
        """Skeleton words of 3+ letters, the ones typo correction looks at."""
        return sorted({s for sp in self.spellings for s in sp.skeletons if len(s) >= 3})


def parse_query(text: str) -> Query:
    compact = _compact_chars(text)
    looks_like_number = len(compact) >= 5 and any(c.isdigit() for c in compact)
    forms = spellings(text)
    if forms and "j" in text.lower() and not CYRILLIC.search(text):
        # A J may be Kazakh Ж even without other Kazakh letters ("Juldyz" for Жұлдыз).
        extra = spellings(text.replace("j", "zh").replace("J", "Zh"))
        forms = forms + tuple(sp for sp in extra if sp not in forms)
    return Query(text=text, spellings=forms, identifier=compact[:64] if looks_like_number else "")


def deletions(word: str, depth: int = 1) -> list[str]:
    """The word and its one-letter deletions (entities_nametoken.deletions, migration 0008);
    with depth 2, also its two-letter deletions, which meet the one-letter deletions of a word
    two edits away (a Cyrillic typo often changes two letters of the transliteration: "д" ->
    "ш" is "d" -> "sh")."""
    found = {word}
    for _ in range(depth):
        found |= {w[:i] + w[i + 1 :] for w in found for i in range(len(w))}
    return [word, *sorted(found - {word})]


def max_edits(word: str) -> int:
    """Edits a skeleton word may be from another and still be a typo of it: one for short
    words, two from five letters (a typo in a Cyrillic or digraph letter changes two letters
    of the skeleton: "Холдисг" is "holdisg", "Холдинг" is "holdin")."""
    return 1 if len(word) < 5 else 2


def choose_corrections(word: str, found: list[str]) -> list[str]:
    """The known words within reach of an unknown one, closest first (at most three)."""
    limit = max_edits(word)
    scored = sorted(
        (DamerauLevenshtein.distance(word, w), w)
        for w in set(found)
        if w != word and abs(len(w) - len(word)) <= limit
    )
    # Two edits only with the first letter kept: people rarely mistype it.
    return [w for d, w in scored if d == 1 or (d <= limit and w[0] == word[0])][:3]


def _sorted(words) -> str:
    return " ".join(sorted(words))[:200]


def lookups(query: Query) -> list[Lookup]:
    """The keys a query looks up, each with the weight a hit adds and a cap on its hits."""
    found: dict[tuple[int, str], Lookup] = {}

    def add(kind: int, key: str, weight: float, cap: int) -> None:
        old = found.get((kind, key))
        if key and (old is None or old.weight < weight):
            found[(kind, key)] = Lookup(kind, key, weight, cap)

    for n, sp in enumerate(query.spellings):
        skels = sp.skeletons
        add(NameKind.NAME, _sorted(skels), 10, 100)
        add(NameKind.PART, _sorted(skels), 7, 100)
        codes = [c for c in (sound(w) for w in sp.words) if c]
        if codes:
            add(NameKind.PHONETIC, _sorted(codes), 6, 200)
        if len(codes) >= 3 and len(codes) == len(skels):
            for sub in combinations(codes, len(codes) - 1):
                add(NameKind.PHONETIC, _sorted(sub), 4, 200)
        for s in skels:
            if len(s) >= 3:
                add(NameKind.TOKEN, s, 2, 150)
        full = [s for s in skels if not is_initial(s)]
        if len(full) >= 3 and len(full) == len(skels):
            for sub in combinations(skels, len(skels) - 1):
                add(NameKind.NAME, _sorted(sub), 7, 100)
                add(NameKind.PART, _sorted(sub), 5, 100)
        if n == 0:
            for key in initials_keys(sp, all_singles=False):
                add(NameKind.INITIALS, key[:200], 5, 200)
    for skels in corrected(query):
        add(NameKind.NAME, _sorted(skels), 8, 100)
        add(NameKind.PART, _sorted(skels), 6, 100)
        for s in skels:
            if len(s) >= 3:
                add(NameKind.TOKEN, s, 2, 150)
    return list(found.values())


def corrected(query: Query) -> list[tuple[str, ...]]:
    """The query's skeleton words with unknown words replaced by known ones (at most four)."""
    if not query.corrections or not query.spellings:
        return []
    options = [
        [s, *query.corrections.get(s, [])] if query.corrections.get(s) else [s]
        for s in query.spellings[0].skeletons
    ]
    return [combo for combo in product(*options) if combo != query.spellings[0].skeletons][:4]


# --- Scoring ----------------------------------------------------------------------------------


@lru_cache(maxsize=100_000)
def _word_match(q: str, q_word: str, c: str, c_word: str) -> tuple[float, Reason | None]:
    if q == c:
        return (1.0, Reason.SAME if q_word == c_word else Reason.TRANSLITERATION)
    if len(q) == 1 or len(c) == 1:
        return (0.9, Reason.INITIALS) if initial(q_word) == initial(c_word) else (0.0, None)
    if len(q) >= 3 and len(c) >= 3:
        limit = max_edits(q)
        d = limit + 1
        if abs(len(q) - len(c)) <= limit:
            # In skeletons or as written, whichever is closer: a skeleton rule can widen a
            # one-letter slip ("Lifn" is "lifn", "Lion" is "lon").
            d = min(
                DamerauLevenshtein.distance(q, c, score_cutoff=limit),
                DamerauLevenshtein.distance(q_word, c_word, score_cutoff=limit),
            )
        # A slip of the keyboard keeps the first letter; a Q for a K, or "Treyd" for "Trade"
        # (two letters apart), is how it sounds.
        if d <= 1 and q_word[0] == c_word[0]:
            return (0.85, Reason.TYPO)
        if _sounds_alike(q_word, c_word):
            # As close as the spellings are: Double Metaphone drops every vowel, so "Viktoriia"
            # sounds like "Vektor" and "Ultau" like "Alatau".
            return (0.6 + 0.3 * DamerauLevenshtein.normalized_similarity(q, c), Reason.SOUNDS)
        if d <= limit:
            return (0.95 - 0.1 * d, Reason.TYPO)
    return (0.0, None)


# Letters English writes and does not say, at the start of a word ("Wright" is "Райт").
SILENT_START = re.compile(r"^(?:w(?=r)|k(?=n)|g(?=n)|p(?=s))")


def _sounds_alike(a: str, b: str) -> bool:
    code = sound(a)
    if code and code == sound(b):
        return True
    a2, b2 = SILENT_START.sub("", a), SILENT_START.sub("", b)
    return (a2, b2) != (a, b) and bool(sound(a2)) and sound(a2) == sound(b2)


def _align(q_sp: Spelling, c_words: list[str], c_skels: list[str]) -> tuple[float, Reason]:
    pairs = []
    for i, q in enumerate(q_sp.skeletons):
        for j, c in enumerate(c_skels):
            sim, why = _word_match(q, q_sp.words[i], c, c_words[j])
            if sim:
                pairs.append((sim, -int(why), i, j, why))
    pairs.sort(reverse=True)
    used_q: set[int] = set()
    used_c: set[int] = set()
    total = 0.0
    worst = Reason.SAME
    for sim, _, i, j, why in pairs:
        if i in used_q or j in used_c:
            continue
        used_q.add(i)
        used_c.add(j)
        total += sim
        worst = max(worst, why)
    missing = len(c_skels) - len(used_c)
    if missing and used_q:
        worst = max(worst, Reason.PART)
    if not missing and total == len(c_skels) and list(q_sp.skeletons) != c_skels:
        total -= 0.01  # the same words in another order: just below the same order
    if worst == Reason.SAME and list(q_sp.words) != c_words:
        worst = Reason.TRANSLITERATION if sorted(q_sp.words) != sorted(c_words) else worst
    return total / (len(q_sp.skeletons) + MISSING_WORD_COST * missing), worst


def score_name(query: Query, norm: str, name: str = "") -> tuple[float, Reason]:
    """How well a stored name (its normalized form) matches the query, and why; 0 to 1.

    The same words are "the same name" only in the same script and spelling; in another
    script or transliteration they are a transliteration."""
    c_words = norm.split()
    if not c_words or not query.spellings:
        return 0.0, Reason.TYPO
    c_skels = [skeleton(w) for w in c_words]
    best = (0.0, Reason.TYPO)
    for sp in query.spellings:
        score, why = _align(sp, c_words, c_skels)
        if score > best[0] or (score == best[0] and why < best[1]):
            best = (score, why)
    if best[1] == Reason.SAME and (
        sorted(query.spellings[0].words) != sorted(c_words)
        or (name and bool(CYRILLIC.search(name)) != bool(CYRILLIC.search(query.text)))
    ):
        best = (best[0], Reason.TRANSLITERATION)
    return best
