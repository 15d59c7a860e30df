"""Names as documents write them: one normalized form for display and filters, and match keys.

A name is cleaned first (entities.names.clean_tokens): legal forms are removed wherever they
stand, in Cyrillic or Latin, short or spelled out ("ТОО", "LLP", "Gesellschaft mit beschränkter
Haftung", Kazakh "ЖШС", "АҚ"), with rigour's org-type data plus the forms rigour lacks; quotes of
every kind go, "&" / "and" / "und" / "и" are dropped, initials are split ("И.С." -> "И", "С"),
and the Kazakh Latin apostrophe forms of 2017 ("Qazaqstan" written "Qazaqstan", "S'" for Ш) are
read as letters.

`normalize` gives the name's words in BGN/PCGN transliteration, lower-case ASCII: "ТОО «Аспан
Арба»" -> "aspan arba". The match keys (name_keys) come from every way a document may have
transliterated those words: for Cyrillic, BGN/PCGN (ICU, with Kazakh-Latin/BGN for Kazakh
letters), ICAO Doc 9303 as in passports and ISO 9 / GOST 7.79 (iuliia), and for Kazakh the 2021
Latin alphabet; for Latin input, Kazakh Latin letters and German umlauts folded. Each spelling is
reduced to a *skeleton* that forgets what transliteration schemes disagree on (kh/h, iu/yu/ju,
q/k, gh/g, y/i/j, ü/ue/u, doubled letters), so "Iuliia Shcheglova", "Yuliya Shcheglova" and
"Юлия Щеглова" share one. Keys (kinds in NameKind):
- NAME: the skeleton words sorted (word order and legal forms do not matter);
- PART: for names of three or more words, the same without one word (patronymic absent, one
  word mistyped or left out);
- PHONETIC: Double Metaphone codes of the words, sorted ("Vogt" / "Фогт", "Trade" / "Трейд");
  for people of three or more words, also without one word;
- TOKEN: each skeleton word of three letters or more (a word of the name; typo correction);
- INITIALS: a word and the sorted initials of the others ("petrov|is" for "Петров И.С.");
- ORDERED: the skeleton words of the BGN/PCGN spelling in their order (match_key): what the
  importer merges parties on.
entities.namematch scores a candidate name against a query from these same pieces.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

import icu
import iuliia
from django.db import models
from metaphone import doublemetaphone
from rigour.names import remove_org_types


class NameKind(models.IntegerChoices):
    """Kinds of match key (entities_namekey.kind)."""

    NAME = 1, "same words"
    PART = 2, "words but one"
    PHONETIC = 3, "sounds alike"
    TOKEN = 4, "one word"
    INITIALS = 5, "initials"
    ORDERED = 6, "same words in order"


# Legal forms rigour does not know: Kazakh forms, and Russian/Kazakh forms once transliterated
# (ТОО -> "too", ЖШС -> "zhshs"). Matched on whole words of the case-folded text.
EXTRA_LEGAL_FORMS = re.compile(
    r"(?<!\w)(?:"
    r"жауапкершілігі\s+шектеулі\s+серіктестігі?|жауапкершiлiгi\s+шектеулi\s+серiктестiгi?"
    r"|акционерлік\s+қоғамы?|жеке\s+кәсіпкер|жшс|жақ|жк|тоо|ооо|оао|зао|пао|нао|ао|ип"
    r"|тов|пат|ltd|llp|llc|jsc|cjsc|pjsc|ojsc|gmbh|ag|too|ooo|zao|oao|pao|nao|ip|tov|zhshs"
    r"|l\.\s?l\.\s?[pc]\.?|ltd\.|inc\.|co\.|corp\."
    r")(?!\w)"
)
# Short forms that are also ordinary words ("Ақ Жол": the white road): legal forms only when the
# document wrote them in capitals.
CAPITAL_LEGAL_FORMS = re.compile(r"(?<!\w)(?:АҚ|AQ|AK|ЖШС|ZhShS|ZhSS)(?!\w)")
STOPWORDS = frozenset({"and", "und", "и", "et", "&", "+"})
# Kazakh Latin of 2017: an apostrophe after a letter marks another letter ("S'" = Ш).
APOSTROPHE_LETTER = re.compile(r"(?<=[A-Za-z])['’ʼ`´](?=[A-Za-z])")
APOSTROPHE_FORMS = {
    "a": "ä", "g": "ğ", "n": "ñ", "o": "ö", "s": "ş", "c": "ç", "u": "ü", "y": "ū", "i": "ı",
}  # fmt: skip
SEPARATORS = re.compile(r"[^\w]+|_")
KAZAKH_LETTERS = re.compile("[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
CYRILLIC = re.compile("[\u0400-\u04ff]")
KAZAKH_LATIN = re.compile("[qğşñŋūıäöüǵńáóúý]")
PATRONYMIC = re.compile(r"(?:ovich|evich|ovna|evna|ich|ichna|uly|ulu|kyzy|qyzy)$")

# Latin letters of Kazakh, ISO 9 and German to ASCII digraphs, before ICU's Latin-ASCII.
LATIN_FOLD = str.maketrans(
    {
        "ş": "sh", "ç": "ch", "č": "ch", "š": "sh", "ž": "zh", "ŝ": "shch", "ğ": "gh",
        "ǵ": "g", "ñ": "ng", "ŋ": "ng", "ń": "ng", "ū": "u", "ı": "i", "û": "yu", "â": "ya",
        "ß": "ss", "ʹ": "", "ʺ": "", "ý": "y",
    }
)  # fmt: skip
KAZAKH_2021 = str.maketrans(
    {
        "ә": "ä", "ғ": "ğ", "қ": "q", "ң": "ñ", "ө": "ö", "ұ": "ū", "ү": "ü", "һ": "h",
        "і": "ı", "ш": "ş", "ж": "j", "ч": "ç", "ы": "y", "й": "i", "у": "u", "ю": "iu",
        "я": "ia", "щ": "şş", "х": "h", "ц": "ts", "ё": "io", "э": "e", "ъ": "", "ь": "",
    }
)  # fmt: skip
# Kazakh letters as Kazakh passports write them (ICAO 9303 has no rule for them).
KAZAKH_PASSPORT = str.maketrans(
    {"ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i"}
)


@lru_cache(maxsize=4)
def _transliterator(rules: str) -> icu.Transliterator:
    return icu.Transliterator.createInstance(rules)


def _ascii(text: str) -> str:
    return _transliterator("Any-Latin; Latin-ASCII; Lower").transliterate(
        text.translate(LATIN_FOLD)
    )


def to_latin(text: str) -> str:
    """Lower-case ASCII in BGN/PCGN (Kazakh-Latin/BGN when Kazakh letters are present)."""
    first = "Kazakh-Latin/BGN" if KAZAKH_LETTERS.search(text) else "Russian-Latin/BGN"
    return _ascii(_transliterator(first).transliterate(text))


def _icao(text: str) -> str:
    return _ascii(iuliia.ICAO_DOC_9303.translate(text.translate(KAZAKH_PASSPORT)))


def _iso9(text: str) -> str:
    # ISO 9 writes Ц as "c": spelled "ts" here, so that "c" keeps meaning K in Latin names.
    latin = iuliia.GOST_779.translate(text.translate(KAZAKH_PASSPORT))
    return _ascii(latin.replace("c", "ts").replace("C", "Ts"))


def _kazakh_2021(text: str) -> str:
    return _ascii(text.lower().translate(KAZAKH_2021))


# --- Cleaning ---------------------------------------------------------------------------------


def _strip_legal_forms(text: str) -> str:
    text = CAPITAL_LEGAL_FORMS.sub(" ", text)
    text = EXTRA_LEGAL_FORMS.sub(" ", text.casefold())
    return EXTRA_LEGAL_FORMS.sub(" ", remove_org_types(text))


@lru_cache(maxsize=200_000)
def clean_tokens(name: str) -> tuple[str, ...]:
    """The words of a name without legal forms, quotes and "and"; initials split."""
    if not name:
        return ()
    text = unicodedata.normalize("NFC", name)
    text = APOSTROPHE_LETTER.sub("\x00", text)
    text = re.sub(
        r"([A-Za-z])\x00", lambda m: APOSTROPHE_FORMS.get(m[1].lower(), m[1]), text
    ).replace("\x00", "")
    # Initials before a name ("A. S. Kuznetsova") and Cyrillic ones after it ("Петров И.С.")
    # are not legal forms, even where they spell one (a.s., s.a.).
    lead = LEADING_INITIALS.match(text)
    trail = TRAILING_INITIALS.search(text)
    head = _words(lead[0].casefold()) if lead else []
    tail = _words(trail[0].casefold()) if trail else []
    body = text[lead.end() if lead else 0 : trail.start() if trail else len(text)]
    words = head + _words(_strip_legal_forms(body)) + tail
    if not words:  # a name that is only a legal form ("OOO"): keep it rather than nothing
        words = _words(text.casefold())
    return tuple(words)


LEADING_INITIALS = re.compile(r"^\s*(?:[^\W\d_]\.\s*)+(?=[^\W\d_]{2})")
# After a surname: Cyrillic initials, or Latin ones after a Russian or Kazakh surname
# ("Kuznetsova A.S.", where "a.s." would otherwise be a Czech legal form).
TRAILING_INITIALS = re.compile(
    r"(?:(?<=[^\W\d_]{2})(?:\s*[\u0400-\u04ff]\.)+"
    r"|(?<=(?:ov|ev|in|yn|va|na|ky|ya|ko|uk|ik|ch|ly|zy))(?:\s*[A-Za-z]\.)+)\s*$"
)


def _words(text: str) -> list[str]:
    # Combining marks left over ("İ" case-folds to "i" and a dot above) would split words.
    text = "".join(c for c in text if not unicodedata.combining(c))
    words = []
    for m in WORD.finditer(text):
        word = m[1]
        # "И." is an initial, not "and"; one letter with a period always is.
        if word in STOPWORDS and not m[2]:
            continue
        words.append(word)
    return words


WORD = re.compile(r"([^\W_]+)(\.)?")


@lru_cache(maxsize=100_000)
def normalize(name: str) -> str:
    """Lower-case ASCII words of a name (BGN/PCGN), without legal forms or punctuation."""
    words = clean_tokens(name)
    if not words:
        return ""
    kazakh = _is_kazakh(words)
    latin = [w for w in (_word_forms(word, kazakh)[0] for word in words) if w]
    # A Latin legal form the transliteration revealed ("ТОВ" -> "tov") is caught by the regex.
    kept = [w for w in latin if not EXTRA_LEGAL_FORMS.fullmatch(w)] or latin
    return " ".join(kept)


NON_ALNUM = re.compile(r"[^a-z0-9]+")


# --- Skeletons and sounds ---------------------------------------------------------------------

# Ordered: longer spellings first. What transliteration schemes write differently for one
# letter becomes one spelling; what sounds differ in stays apart (sh / s, zh / z).
_SKELETON_RULES = [
    # Е and Ё after a vowel or at the start: BGN writes "ye" / "yo", ICAO "e".
    (re.compile(r"(?:^|(?<=[aeiouy]))[yj](?=[eo])"), ""),
    (re.compile(r"tsch"), "ch"),
    (re.compile(r"sch(?!ch)"), "sh"),
    (re.compile(r"dzh|dj"), "j"),
    (re.compile(r"kh|ch(?=[^aeiouy]|$)(?<!shch)"), "h"),
    (re.compile(r"tz|cz"), "ts"),
    (re.compile(r"gh"), "g"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"th"), "t"),
    (re.compile(r"ck"), "k"),
    (re.compile(r"q"), "k"),
    (re.compile(r"w"), "v"),
    (re.compile(r"v"), "f"),
    (re.compile(r"x"), "ks"),
    (re.compile(r"c(?!h)"), "k"),
    (re.compile(r"ae"), "a"),
    (re.compile(r"oe"), "o"),
    (re.compile(r"ue"), "u"),
    (re.compile(r"[yj]"), "i"),
    (re.compile(r"ei"), "ai"),
    (re.compile(r"eu"), "oi"),
    (re.compile(r"(.)\1+"), r"\1"),
    # Ң: "ng" in BGN and 2021 (ñ), "n" in passports.
    (re.compile(r"ng"), "n"),
    (re.compile(r"i(?=[aeou])"), ""),
    (re.compile(r"(.)\1+"), r"\1"),
]


# First letters that transliterations write differently, as one: "W." for William, "J." for
# Jonas or Юлия ("Yuliya", "Iuliia"), "В." for Владислав ("Vladislav").
INITIAL_LETTERS = {"w": "f", "v": "f", "j": "i", "y": "i", "q": "k", "c": "k", "x": "k"}


def initial(word: str) -> str:
    """The initial a document would write for an ASCII word, as initials are compared."""
    return INITIAL_LETTERS.get(word[:1], word[:1])


@lru_cache(maxsize=200_000)
def skeleton(word: str) -> str:
    """One spelling for a word however it was transliterated ("Iuliia" = "Yuliya" = "Julia")."""
    s = NON_ALNUM.sub("", word)
    if len(s) <= 1:  # an initial (entities.names.initial)
        return initial(s)
    if not s.isalpha():  # numbers stay as written: "11" is not "1"
        return s
    for pattern, repl in _SKELETON_RULES:
        s = pattern.sub(repl, s)
    return s or word


@lru_cache(maxsize=200_000)
def sound(word: str) -> str:
    """Double Metaphone of an ASCII word, with the first-letter traps of transliteration
    removed (a leading Kh is H, J and Y are I, W is V, Ts is Z): "Khoffmann" sounds like
    "Hoffmann", "Julia" like "Iuliia", "Mechanics" like "Mekhaniks"."""
    w = NON_ALNUM.sub("", word)
    if len(w) < 2 or w.isdigit():
        return ""
    w = re.sub(r"^kh", "h", w)
    w = re.sub(r"^(dzh|dj)", "j", w)
    w = re.sub(r"^[jy]", "i", w)
    w = w.replace("w", "v").replace("ts", "z").replace("tz", "z")
    # "ch" before a back vowel: K in "Mechanics", and spelled alike on both sides otherwise
    # (Чайка is "Chayka" in every scheme).
    w = re.sub(r"ch(?=[aou])", "kh", w)
    return doublemetaphone(w)[0]


# --- Spellings and keys -----------------------------------------------------------------------


@dataclass(frozen=True)
class Spelling:
    """A name's words in one transliteration: ASCII words and their skeletons, in order."""

    words: tuple[str, ...]
    skeletons: tuple[str, ...]


@lru_cache(maxsize=100_000)
def spellings(name: str) -> tuple[Spelling, ...]:
    """The name as documents may have transliterated it; the first is BGN/PCGN (`normalize`)."""
    words = clean_tokens(name)
    if not words:
        return ()
    kazakh = _is_kazakh(words)
    per_word = [_word_forms(word, kazakh) for word in words]
    out: dict[tuple[str, ...], Spelling] = {}
    for i in range(max(len(forms) for forms in per_word)):
        # A word with fewer forms (Latin in a Cyrillic name) keeps its first.
        ws = tuple(w for w in (f[i] if i < len(f) else f[0] for f in per_word) if w)
        if ws and ws not in out:
            out[ws] = Spelling(words=ws, skeletons=tuple(skeleton(w) for w in ws))
    return tuple(out.values())


def _is_kazakh(words: tuple[str, ...]) -> bool:
    """Kazakh letters in Cyrillic, or the Kazakh Latin alphabets' letters, anywhere."""
    text = " ".join(words)
    return bool(KAZAKH_LETTERS.search(text) or KAZAKH_LATIN.search(text))


@lru_cache(maxsize=200_000)
def _word_forms(word: str, kazakh: bool) -> tuple[str, ...]:
    """One word's ASCII spellings: BGN/PCGN first, then ICAO 9303, ISO 9 and Kazakh Latin
    of 2021 for Cyrillic; for Latin, the Kazakh reading of J (Ж) in a Kazakh name."""
    if CYRILLIC.search(word):
        bgn = "Kazakh-Latin/BGN" if kazakh else "Russian-Latin/BGN"
        forms = [_ascii(_transliterator(bgn).transliterate(word)), _icao(word), _iso9(word)]
        if kazakh:
            forms.append(_kazakh_2021(word))
    else:
        forms = [_ascii(word)]
        if kazakh and "j" in word:  # Kazakh Latin of 2021: J is Ж
            forms.append(_ascii(word.replace("j", "zh")))
    forms = [NON_ALNUM.sub("", f) for f in forms]
    if len(word) == 1 and word.isalpha():
        # An initial stays one letter: "Ж." is "z" (as "zhukov" begins), not "zh".
        forms = [initial(f) for f in forms]
    return tuple(forms)


def is_initial(word: str) -> bool:
    return len(word) == 1 and word.isalpha()


def _sorted_key(words: tuple[str, ...] | list[str]) -> str:
    return " ".join(sorted(words))


def initials_keys(form: Spelling, *, all_singles: bool) -> set[str]:
    """A word (skeleton) and the sorted initials of the others: "petrof|is" for Petrov Ivan
    Sergeevich.

    all_singles adds the word with each single initial ("petrof|i": patronymic left out),
    skipping patronymics, which are never the only initial written.
    """
    keys: set[str] = set()
    if len(form.words) < 2:
        return keys
    for i, base in enumerate(form.skeletons):
        if len(base) < 2:
            continue
        others = [w for j, w in enumerate(form.words) if j != i]
        keys.add(f"{base}|{''.join(sorted(initial(w) for w in others))}")
        if all_singles and len(others) > 1:
            keys.update(f"{base}|{initial(w)}" for w in others if not PATRONYMIC.search(w))
    return keys


@lru_cache(maxsize=100_000)
def name_keys(name: str, *, person: bool = False) -> frozenset[tuple[int, str]]:
    """Every match key of a stored name: (NameKind, key) pairs, without repeats."""
    keys: set[tuple[int, str]] = set()
    forms = spellings(name)
    if forms:
        keys.add((NameKind.ORDERED, match_key(name)))
    for n, form in enumerate(forms):
        skels = form.skeletons
        keys.add((NameKind.NAME, _sorted_key(skels)[:200]))
        codes = [c for c in (sound(w) for w in form.words) if c]
        if codes:
            keys.add((NameKind.PHONETIC, _sorted_key(codes)[:200]))
        if person and len(codes) >= 3 and len(codes) == len(skels):
            # "Дэвид Уокер" sounds like two words of "David James Walker".
            keys.update(
                (NameKind.PHONETIC, _sorted_key(sub)[:200])
                for sub in combinations(codes, len(codes) - 1)
            )
        keys.update((NameKind.TOKEN, s[:200]) for s in skels if len(s) >= 3)
        has_initials = any(is_initial(s) for s in skels)
        if n == 0 and (person or has_initials):
            keys.update(
                (NameKind.INITIALS, k[:200]) for k in initials_keys(form, all_singles=person)
            )
        if n == 0 and len(skels) >= 3 and not has_initials:
            keys.update(
                (NameKind.PART, _sorted_key(sub)[:200])
                for sub in combinations(skels, len(skels) - 1)
            )
    return frozenset(keys)


def match_key(name: str) -> str:
    """The ORDERED key of a name: its words' skeletons in the BGN/PCGN spelling, in order. Equal
    for the same name with any legal form, quoting or transliteration scheme, but not for
    other words or another order: the importer merges parties on it, and a false merge in
    evidence is worse than a duplicate ("Аспан Арба" and "Арба Аспан" may be two companies)."""
    forms = spellings(name)
    return " ".join(forms[0].skeletons)[:200] if forms else ""


def encode_keys(keys: frozenset[tuple[int, str]] | set[tuple[int, str]]) -> list[str]:
    """Keys as text for COPY and SQL: the kind's digit, then the key ("1aspan arba")."""
    return sorted(f"{kind}{key}" for kind, key in keys)


def name_forms(name: str, *, person: bool = False) -> tuple[str, str]:
    """The normalized form of a name and its encoded match keys as a PostgreSQL array literal
    (for COPY, made once per name rather than adapted per row), the ORDERED key first (the
    importer's party key)."""
    norm = normalize(name)
    first = f"{NameKind.ORDERED}{match_key(name)}"
    keys = encode_keys(name_keys(name, person=person))
    ordered = [first, *(k for k in keys if k != first)] if first in keys else keys
    return norm, array_literal(ordered)


def array_literal(values: list[str]) -> str:
    """A text[] literal: every element quoted, backslashes and quotes escaped."""
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"
