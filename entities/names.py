"""Names as investigators type them: one normalized form and one phonetic key per name.

"ТОО «Аспан Арба»", "TOO Aspan Arba" and "Aspan Arba LLP" all normalize to "aspan arba":
legal forms are stripped with rigour's org-type data (Cyrillic and Latin, full and short
forms), Cyrillic is transliterated with ICU's BGN/PCGN rules (Kazakh text with the Kazakh
rules), accents are folded to ASCII. The phonetic key (Soundex per word, sorted) catches
spellings that transliteration alone keeps apart: "Скай Механикс" -> "skay mekhaniks" and
"Sky Mechanics" share the key "M252 S000".
"""

import re
from functools import lru_cache

import icu
from rigour.names import remove_org_types
from rigour.text.phonetics import soundex

# Legal forms as they appear once transliterated (ТОО -> TOO, ИП -> IP, ТОВ -> TOV); rigour's
# data knows them in Cyrillic and in their Western equivalents, not in transliteration.
TRANSLITERATED_LEGAL_FORMS = frozenset(
    {"too", "ooo", "zao", "oao", "pao", "ao", "ip", "tov", "pat", "pp", "chp", "nao", "ano"}
)
KAZAKH_LETTERS = re.compile("[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
NON_ALNUM = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=4)
def _transliterator(rules: str) -> icu.Transliterator:
    return icu.Transliterator.createInstance(rules)


def to_latin(text: str) -> str:
    """Transliterate to lower-case ASCII (BGN/PCGN for Russian and Kazakh, ICU for the rest)."""
    first = "Kazakh-Latin/BGN" if KAZAKH_LETTERS.search(text) else "Russian-Latin/BGN"
    return _transliterator(f"{first}; Any-Latin; Latin-ASCII; Lower").transliterate(text)


@lru_cache(maxsize=100_000)
def normalize(name: str) -> str:
    """Lower-case ASCII words of a name, without legal forms or punctuation."""
    if not name:
        return ""
    without_forms = remove_org_types(name.casefold().replace("«", " ").replace("»", " "))
    latin = NON_ALNUM.sub(" ", to_latin(without_forms))
    latin = remove_org_types(latin)
    words = [w for w in NON_ALNUM.sub(" ", latin).split() if w not in TRANSLITERATED_LEGAL_FORMS]
    if not words:  # a name that is only a legal form ("OOO"): keep it rather than nothing
        words = NON_ALNUM.sub(" ", to_latin(name.casefold())).split()
    return " ".join(words)


def phonetic_key(normalized: str) -> str:
    """Soundex codes of the words, sorted, so word order does not matter ("Ivanov Ivan")."""
    codes = sorted({soundex(w) for w in normalized.split() if w.isalpha() and len(w) > 1})
    return " ".join(c for c in codes if c)


def name_forms(name: str) -> tuple[str, str]:
    norm = normalize(name)
    return norm, phonetic_key(norm)
