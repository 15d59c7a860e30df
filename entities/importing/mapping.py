"""Guess which file column feeds which field, from the header row.

Our own field names map exactly; so do the headers of common Russian and Kazakh customs
extracts (ДТ, ТН ВЭД) and registry extracts, and their usual English equivalents. Headers are
compared normalised: lower case, ё as е, "№" as "номер", punctuation and underscores as spaces.
"""

import re
from functools import cache

from .types import COMPANY_FIELDS, REQUIRED, SHIPMENT_FIELDS, Mapping

FIELDS = {"shipments": SHIPMENT_FIELDS, "companies": COMPANY_FIELDS}

_PUNCTUATION = re.compile(r"[\W_]+")

# The two parties of a declaration, as headers name them (nominative, then genitive for
# "страна экспортера"). Graph 2 of the ДТ is the sender, graph 8 the recipient.
_EXPORTER_WORDS = (
    ("экспортер", "экспортера"),
    ("отправитель", "отправителя"),
    ("грузоотправитель", "грузоотправителя"),
    ("продавец", "продавца"),
)
_IMPORTER_WORDS = (
    ("импортер", "импортера"),
    ("получатель", "получателя"),
    ("грузополучатель", "грузополучателя"),
    ("покупатель", "покупателя"),
)
_EXPORTER_EN = ("exporter", "shipper", "consignor", "seller", "sender", "supplier")
_IMPORTER_EN = ("importer", "consignee", "buyer", "recipient", "receiver")
_ID_WORDS = ("инн", "бин", "иин", "бин иин", "инн бин", "огрн")

# field -> header synonyms, best first (when two headers map to one field, the better wins).
_SHIPMENT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "date": (
        "дата", "дата декларации", "дата оформления", "дата выпуска", "дата регистрации дт",
        "дата дт", "date", "declaration date", "shipment date", "күні",
    ),
    "declaration_number": (
        "номер декларации", "номер дт", "декларация", "номер гтд", "гтд", "дт",
        "declaration", "declaration number", "declaration no", "decl no", "customs declaration",
    ),
    "line": (
        "номер товара", "строка", "номер строки", "номер позиции", "позиция",
        "line no", "line number", "item no", "item number",
    ),
    "hs_code": (
        "код тн вэд", "тн вэд", "код товара", "код тн вэд еаэс", "тн вэд еаэс", "код тнвэд",
        "тнвэд", "hs code", "hs", "commodity code", "tariff code", "сэқ тн коды",
        "сэқ тн",
    ),
    "description": (
        "наименование товара", "описание товара", "товар", "описание", "коммерческое описание",
        "goods", "description", "goods description", "commodity", "product", "тауар атауы",
        "тауардың атауы",
    ),
    "quantity": (
        "количество", "кол во", "quantity", "qty", "саны",
    ),
    "unit": (
        "единица измерения", "ед изм", "ед", "unit", "units", "unit of measure", "uom",
    ),
    "value": (
        "стоимость", "фактурная стоимость", "таможенная стоимость", "статистическая стоимость",
        "стоимость usd", "стоимость долл сша", "стоимость в usd", "value", "amount",
        "value usd", "invoice value", "customs value", "statistical value", "құны",
    ),
    "currency": ("валюта", "код валюты", "валюта контракта", "currency", "currency code"),
    "origin_country": (
        "страна происхождения", "происхождение", "origin", "origin country",
        "country of origin", "шығарылған елі",
    ),
    "destination_country": (
        "страна назначения", "destination", "destination country", "country of destination",
    ),
    "dispatch_country": (
        "страна отправления", "dispatch", "dispatch country", "country of dispatch",
        "country of export", "export country",
    ),
}  # fmt: skip

_COMPANY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": (
        "наименование", "название", "полное наименование", "наименование организации",
        "наименование юридического лица", "name", "company", "company name", "entity name",
        "legal name", "атауы",
    ),
    "country": ("страна", "country", "jurisdiction", "страна регистрации", "country code"),
    "registration_number": (
        "бин", "инн", "огрн", "бин иин", "иин бин", "огрнип", "регистрационный номер",
        "registration number", "reg no", "reg number", "company number", "registration no",
        "identifier",
    ),
    "scheme": ("scheme", "схема", "тип идентификатора", "identifier scheme"),
    "incorporation_date": (
        "дата регистрации", "дата создания", "дата государственной регистрации",
        "incorporation date", "date of incorporation", "registration date", "founded",
    ),
    "address": (
        "адрес", "юридический адрес", "address", "registered address", "legal address",
    ),
}  # fmt: skip


def normalize_header(header: str) -> str:
    """Lower case, ё as е, "№" as "номер", punctuation and underscores as single spaces."""
    text = header.casefold().replace("ё", "е").replace("№", " номер ")
    return " ".join(_PUNCTUATION.sub(" ", text).split())


@cache
def _synonyms(kind: str) -> dict[str, tuple[str, int]]:
    """Normalised header -> (field, rank); rank 0 is our own field name."""
    if kind == "shipments":
        table = dict(_SHIPMENT_SYNONYMS)
        table["exporter"] = _party_names(_EXPORTER_WORDS, _EXPORTER_EN)
        table["importer"] = _party_names(_IMPORTER_WORDS, _IMPORTER_EN)
        for side, words, english in (
            ("exporter", _EXPORTER_WORDS, _EXPORTER_EN),
            ("importer", _IMPORTER_WORDS, _IMPORTER_EN),
        ):
            table[f"{side}_country"] = tuple(f"страна {genitive}" for _, genitive in words) + tuple(
                f"{word} country" for word in english
            )
            table[f"{side}_id"] = tuple(
                f"{id_word} {genitive}" for _, genitive in words for id_word in _ID_WORDS
            ) + tuple(f"{word} {suffix}" for word in english for suffix in ("id", "tax id", "inn"))
    elif kind == "companies":
        table = dict(_COMPANY_SYNONYMS)
    else:
        raise ValueError(f"unknown import kind {kind!r}")
    lookup: dict[str, tuple[str, int]] = {}
    for field in FIELDS[kind]:
        lookup[normalize_header(field)] = (field, 0)
    for field, names in table.items():
        for rank, name in enumerate(names, start=1):
            lookup.setdefault(normalize_header(name), (field, rank))
    return lookup


def _party_names(words: tuple[tuple[str, str], ...], english: tuple[str, ...]) -> tuple[str, ...]:
    return (
        tuple(nominative for nominative, _ in words)
        + tuple(f"наименование {genitive}" for _, genitive in words)
        + tuple(f"{word}{suffix}" for word in english for suffix in ("", " name"))
    )


def auto_mapping(headers: list[str], kind: str) -> dict[str, str]:
    """field -> header for every header we recognise; each field and header used once.

    One exception, for shipments: without a destination column, the importer's country is the
    destination (the goods went to the recipient), so the trade flows by destination are not
    all "unknown". The mapping screen shows it; the person importing can unset it.
    """
    synonyms = _synonyms(kind)
    best: dict[str, tuple[int, int, str]] = {}  # field -> (rank, position, header)
    for position, header in enumerate(headers):
        found = _lookup(header, synonyms)
        if found is None:
            continue
        field, rank = found
        if field not in best or (rank, position) < best[field][:2]:
            best[field] = (rank, position, header)
    if kind == "shipments" and "destination_country" not in best and "importer_country" in best:
        best["destination_country"] = best["importer_country"]
    return {field: best[field][2] for field in FIELDS[kind] if field in best}


def _lookup(header: str, synonyms: dict[str, tuple[str, int]]) -> tuple[str, int] | None:
    """The header as it is, else without a trailing "(USD)" or ", руб." qualifier."""
    found = synonyms.get(normalize_header(header))
    if found is not None:
        return found
    for stop in ("(", ","):
        head, sep, _ = header.partition(stop)
        if sep and head.strip():
            found = synonyms.get(normalize_header(head))
            if found is not None:
                return (found[0], found[1] + 100)
    return None


def missing_required(mapping: Mapping | dict[str, str], kind: str) -> list[str]:
    """Required fields that have neither a column nor a default value."""
    if isinstance(mapping, Mapping):
        columns, defaults = mapping.columns, mapping.defaults
    else:
        columns, defaults = mapping, {}
    return [f for f in REQUIRED[kind] if not columns.get(f) and not defaults.get(f)]


def scheme_hint(header: str) -> str:
    """The identifier scheme a registration-number header names ("БИН" -> kz_bin), or ""."""
    words = set(normalize_header(header).split())
    for word, scheme in (
        ("бин", "kz_bin"),
        ("огрнип", "ru_ogrn"),
        ("огрн", "ru_ogrn"),
        ("инн", "ru_inn"),
        ("lei", "lei"),
    ):
        if word in words:
            return scheme
    return ""
