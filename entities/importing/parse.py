"""Turn a file row into a ShipmentRow or CompanyRow, or the list of reasons it is refused.

Written for a million rows a minute: column positions are worked out once per file, and
every value with a small vocabulary (dates, countries, HS codes, currencies, party names) is
parsed once and then looked up in a bounded per-parser cache, since a customs file repeats
the same few thousand parties, dates and codes over and over.
"""

import dataclasses
import datetime
import hashlib
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from babel import Locale
from babel.core import get_global
from babel.numbers import list_currencies

from entities.codes import country_names
from entities.identifiers import InvalidIdentifier, Scheme, clean_identifier
from entities.names import name_forms

from .mapping import FIELDS, scheme_hint
from .readers import UNDECODABLE
from .types import REQUIRED, CompanyRow, Mapping, Reject, ShipmentRow

# A cache holds at most this many values, then starts afresh: memory stays flat on a file
# with millions of distinct values, and the common ones are back after a few rows.
CACHE_LIMIT = 100_000
REJECT_VALUE_CHARS = 500  # a reject quotes at most this much of the value
# PostgreSQL text (and COPY) cannot hold U+0000: a value with one is refused, and rejects and
# column names show it as the visible symbol for NUL so they can be stored.
NUL, NUL_SHOWN = "\x00", "\u2400"
COLUMN_CHARS = 200  # RejectedRow.column
IMPORT_KEY_CHARS = 100  # Shipment.import_key

# Longest value each text field takes (model field sizes; line is only part of the key).
MAX_CHARS = {
    "declaration_number": 100,
    "line": 20,
    "description": 10_000,
    "unit": 30,
    "exporter": 500,
    "importer": 500,
    "exporter_id": 64,
    "importer_id": 64,
    "name": 500,
    "registration_number": 64,
    "address": 2_000,
}
# Digits before the decimal point and after it (Shipment.quantity and .value).
QUANTITY_DIGITS = (17, 3)
VALUE_DIGITS = (18, 2)
YEARS = (1900, 2100)  # outside this a date is a typo, not a shipment

# What spreadsheets write for "nothing here".
PLACEHOLDERS = frozenset({"-", "--", "---", "—", "–", "n/a", "N/A", "#N/A"})

_ISO_DATE = re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})(?:[T ].*)?")
_NUMERIC_DATE = re.compile(r"([0-9]{1,2})([./-])([0-9]{1,2})\2([0-9]{4})(?: .*)?")
_YEAR_MONTH = re.compile(r"([0-9]{4})-([0-9]{1,2})|([0-9]{1,2})[./]([0-9]{4})")
_YEAR = re.compile(r"[0-9]{4}")
_THOUSANDS = {
    ",": re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+"),
    ".": re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+"),
}
# Spaces people and spreadsheets put between thousands: space, no-break, thin, narrow no-break,
# figure space; and the Swiss apostrophe.
_DIGIT_GROUPING = str.maketrans("", "", " \xa0\u2009\u202f\u2007'’")
_HS_SEPARATORS = str.maketrans("", "", " \xa0.")
_DATE_HINT = {
    "iso": "use YYYY-MM-DD",
    "dmy": "use YYYY-MM-DD or DD.MM.YYYY",
    "mdy": "use YYYY-MM-DD or MM/DD/YYYY",
    "auto": "use YYYY-MM-DD or DD.MM.YYYY",
}

# Official long forms and abbreviations customs documents use; CLDR (via babel) has one short
# name per country and language, which covers the rest.
_COUNTRY_ALIASES = {
    "российская федерация": "RU",
    "рф": "RU",
    "сша": "US",
    "соединенные штаты америки": "US",
    "кыргызстан": "KG",
    "кыргызская республика": "KG",
    "белоруссия": "BY",
    "китайская народная республика": "CN",
    "кнр": "CN",
    "объединенные арабские эмираты": "AE",
    "соединенное королевство": "GB",
    "южная корея": "KR",
    "чешская республика": "CZ",
    "молдавия": "MD",
    "голландия": "NL",
    "турецкая республика": "TR",
    "russian federation": "RU",
    "usa": "US",
    "united states of america": "US",
    "uk": "GB",
    "great britain": "GB",
    "uae": "AE",
    "turkey": "TR",
    "czech republic": "CZ",
    "republic of korea": "KR",
    "korea, republic of": "KR",
    "people's republic of china": "CN",
    "kyrgyz republic": "KG",
}
_REPUBLIC_PREFIXES = ("республика ", "republic of ", "the ")

# Currency words of Russian and Kazakh documents, and ISO 4217 numeric codes of the region
# (graph 22 of a ДТ gives the numeric code).
_CURRENCY_ALIASES = {
    "руб": "RUB",
    "руб.": "RUB",
    "рубль": "RUB",
    "рубли": "RUB",
    "рублей": "RUB",
    "рос. руб": "RUB",
    "рос. руб.": "RUB",
    "rur": "RUB",
    "₽": "RUB",
    "долл": "USD",
    "долл.": "USD",
    "доллар": "USD",
    "долларов": "USD",
    "долл. сша": "USD",
    "долл сша": "USD",
    "$": "USD",
    "евро": "EUR",
    "€": "EUR",
    "тенге": "KZT",
    "тг": "KZT",
    "₸": "KZT",
    "юань": "CNY",
    "сом": "KGS",
    "643": "RUB",
    "810": "RUB",
    "840": "USD",
    "978": "EUR",
    "398": "KZT",
    "156": "CNY",
    "933": "BYN",
    "417": "KGS",
    "860": "UZS",
    "949": "TRY",
    "784": "AED",
}

_SHIPMENT_ORDER = (
    "line", "date", "hs_code", "declaration_number", "line_no", "exporter", "exporter_norm",
    "exporter_keys", "exporter_country", "exporter_id", "importer", "importer_norm",
    "importer_keys", "importer_country", "importer_id", "origin_country",
    "destination_country", "dispatch_country", "description", "quantity", "unit", "value",
    "currency", "import_key",
)  # fmt: skip
# ShipmentRow is built with positional arguments (twice as fast as keywords on a million rows):
# fail at import, not with shuffled values, if its fields are ever reordered.
if tuple(f.name for f in dataclasses.fields(ShipmentRow)) != _SHIPMENT_ORDER:
    raise ImportError("entities.importing.types.ShipmentRow changed; update parse._SHIPMENT_ORDER")


class _Bad(str):
    """Why a value is refused. A str, so one cache holds parsed values and reasons alike."""

    __slots__ = ()


def _too_long(size: int, limit: int) -> _Bad:
    return _Bad(f"value too long ({size} characters, at most {limit})")


def _too_many_digits(size: int, limit: int) -> _Bad:
    return _Bad(f"value too long ({size} digits before the decimal point, at most {limit})")


def _text_problem(value: str, limit: int) -> _Bad | None:
    if len(value) > limit:
        return _too_long(len(value), limit)
    if UNDECODABLE in value:
        return _Bad("the file has bytes here that are not text in its encoding")
    return None


def _reject(line: int, column: str, value: str, reason: str) -> Reject:
    if len(value) > REJECT_VALUE_CHARS:
        value = value[:REJECT_VALUE_CHARS] + "…"
    if NUL in value:
        value = value.replace(NUL, NUL_SHOWN)
    return Reject(line, column, value, reason)


def _key(text: str) -> str:
    """Country and currency names compared loosely: case, ё/е and spacing do not matter."""
    return " ".join(text.casefold().replace("ё", "е").split())


@cache
def country_lookup() -> dict[str, str]:
    """Normalised country name or code -> ISO alpha-2, in English, Russian and Kazakh.

    Names come from CLDR through babel ("Германия", "Қазақстан"), alpha-3 and numeric codes
    from CLDR's territory aliases (KAZ, 398), plus the long forms in _COUNTRY_ALIASES.
    """
    codes = country_names()
    lookup: dict[str, str] = {}
    for locale in ("en", "ru", "kk"):
        for code, name in Locale(locale).territories.items():
            if code in codes:
                lookup.setdefault(_key(name), code)
                short = name.partition("(")[0].strip()  # "Гонконг (САР)" -> "Гонконг"
                if short:
                    lookup.setdefault(_key(short), code)
    for alias, targets in get_global("territory_aliases").items():
        if len(targets) == 1 and targets[0] in codes and len(alias) == 3:
            lookup.setdefault(alias.casefold(), targets[0])
    for code in codes:
        lookup[code.casefold()] = code
    for alias, code in _COUNTRY_ALIASES.items():
        lookup.setdefault(_key(alias), code)
    return lookup


def parse_country(raw: str) -> str | _Bad:
    """An ISO alpha-2 code from a code or a name; "" for a placeholder such as "-"."""
    if raw in PLACEHOLDERS:
        return ""
    lookup = country_lookup()
    key = _key(raw).strip(".")
    code = lookup.get(key)
    if code is None:
        for prefix in _REPUBLIC_PREFIXES:  # "Республика Казахстан" -> "казахстан"
            if key.startswith(prefix):
                code = lookup.get(key.removeprefix(prefix))
                break
    return code if code is not None else _Bad("unknown country")


@cache
def currency_lookup() -> dict[str, str]:
    """Normalised currency code or name (English, Russian) -> ISO 4217 code."""
    codes = set(list_currencies())
    lookup = {code.casefold(): code for code in codes}
    for locale in ("en", "ru"):
        for code, name in Locale(locale).currencies.items():
            if code in codes:
                lookup.setdefault(_key(name), code)
    lookup.update((_key(k), v) for k, v in _CURRENCY_ALIASES.items())
    return lookup


def parse_currency(raw: str) -> str | _Bad:
    if raw in PLACEHOLDERS:
        return ""
    code = currency_lookup().get(_key(raw))
    return code if code is not None else _Bad("unknown currency (use an ISO 4217 code, e.g. USD)")


def parse_hs_code(raw: str) -> str | _Bad:
    """2 to 10 digits; "8542.31" -> "854231". An odd length lost its leading zero in a
    spreadsheet (101210000 for 0101210000), since HS and TN VED codes have even lengths."""
    code = raw.translate(_HS_SEPARATORS)
    if not (code.isascii() and code.isdigit()):
        return _Bad("HS code must be digits")
    if len(code) % 2:
        code = "0" + code
    if not 2 <= len(code) <= 10:
        return _Bad("HS code must have 2 to 10 digits")
    return code


def parse_date(raw: str, date_format: str = "auto") -> datetime.date | _Bad:
    """ISO dates always (XLSX dates arrive as ISO); DD.MM.YYYY and DD/MM/YYYY day first, or
    month first with date_format "mdy"; only ISO with "iso". A time after the date is ignored."""
    match = _ISO_DATE.fullmatch(raw)
    if match:
        year, month, day = int(match[1]), int(match[2]), int(match[3])
        swapped: tuple[int, int] | None = None
    else:
        match = _NUMERIC_DATE.fullmatch(raw) if date_format != "iso" else None
        if match is None:
            return _Bad(f"not a date ({_DATE_HINT.get(date_format, _DATE_HINT['auto'])})")
        first, second, year = int(match[1]), int(match[3]), int(match[4])
        if date_format == "mdy":
            month, day = first, second
        else:
            day, month = first, second
        swapped = (day, month)
    if not YEARS[0] <= year <= YEARS[1]:
        return _Bad(f"not a plausible year ({year})")
    try:
        return datetime.date(year, month, day)
    except ValueError:
        pass
    if swapped is not None and date_format != "mdy" and month > 12:
        try:
            datetime.date(year, swapped[0], swapped[1])
        except ValueError:
            pass
        else:
            return _Bad("not a real date (read day first; is this file's date format MM/DD/YYYY?)")
    return _Bad("not a real date")


def parse_partial_date(raw: str, date_format: str = "auto") -> str | _Bad:
    """A full or partial ISO date string: "2022", "2022-04", "2022-04-05" (from 05.04.2022)."""
    if _YEAR.fullmatch(raw):
        year = int(raw)
        return raw if YEARS[0] <= year <= YEARS[1] else _Bad(f"not a plausible year ({year})")
    match = _YEAR_MONTH.fullmatch(raw)
    if match:
        year, month = (int(match[1]), int(match[2])) if match[1] else (int(match[4]), int(match[3]))
        if not 1 <= month <= 12:
            return _Bad("not a real date")
        if not YEARS[0] <= year <= YEARS[1]:
            return _Bad(f"not a plausible year ({year})")
        return f"{year:04d}-{month:02d}"
    parsed = parse_date(raw, date_format)
    return parsed if isinstance(parsed, _Bad) else parsed.isoformat()


class MappingError(ValueError):
    """A mapping that names an unknown field."""


class Parser:
    """Parse the rows of one file under one mapping.

    parse(line, values) returns the row, or every reject of the row (a row with any reject is
    not imported). A mapped column the file does not have counts as unmapped (see
    missing_columns); a required field without a column rejects every row, so the mapping
    screen can show the parser at work before the mapping is complete.

    Decimal separators: "1,234.56" and "1 234,56" are unambiguous; "1,234" or "1.234" is read
    by mapping.decimal_comma, else by the first unambiguous number of the file seen so far,
    else as a decimal separator (Russian and Kazakh files group thousands with spaces).
    """

    def __init__(self, kind: str, mapping: Mapping, headers: list[str]) -> None:
        if kind not in FIELDS:
            raise MappingError(f"unknown import kind {kind!r}")
        fields = FIELDS[kind]
        unknown = sorted(set(mapping.columns) - set(fields))
        if unknown:
            raise MappingError(f"no such field: {', '.join(unknown)}")
        self.kind = kind
        self.mapping = mapping
        self.headers = headers
        self.width = len(headers)
        self.date_format = mapping.date_format if mapping.date_format in _DATE_HINT else "auto"
        self.decimal_comma: bool | None = mapping.decimal_comma
        self._decimal_comma_fixed = mapping.decimal_comma is not None
        positions = {header: i for i, header in reversed(list(enumerate(headers)))}
        self.missing_columns: list[str] = []
        # Every field reads values[index], where values is the row followed by a tail of
        # defaults, so a field without a column reads its default and the hot path has no
        # branches for it.
        self.index: dict[str, int] = {}
        self.column: dict[str, str] = {}
        self.default: dict[str, str] = {}
        tail: list[str] = []
        for field in fields:
            header = mapping.columns.get(field) or ""
            default = (mapping.defaults.get(field) or "").strip()
            self.default[field] = default
            if header and header in positions:
                self.index[field] = positions[header]
                self.column[field] = header[:COLUMN_CHARS].replace(NUL, NUL_SHOWN)
            else:
                if header:
                    self.missing_columns.append(header)
                self.index[field] = self.width + len(tail)
                self.column[field] = "(default)" if default else f"({field})"
                tail.append(default)
        self._tail = tail
        # Required fields with neither a column in this file nor a default.
        self.required_missing = [
            f for f in REQUIRED[kind] if self.index[f] >= self.width and not self.default[f]
        ]
        self.parse: Callable[[int, list[str]], ShipmentRow | CompanyRow | list[Reject]] = (
            self._shipment_parser() if kind == "shipments" else self._company_parser()
        )

    # --- shared pieces -------------------------------------------------------------------------

    def _cached(self, parse: Callable[[str], object]) -> tuple[Callable, Callable]:
        """(cache.get, miss) for one kind of value: miss parses, stores and returns."""
        store: dict[str, object] = {}

        def miss(raw: str) -> object:
            result = parse(raw)
            if len(store) >= CACHE_LIMIT:
                store.clear()
            store[raw] = result
            return result

        return store.get, miss

    def _decimal(self, raw: str, digits: tuple[int, int], what: str) -> Decimal | _Bad | None:
        """A non-negative Decimal within the field's digits; None for a placeholder."""
        text = raw
        if " " in text:
            text = text.replace(" ", "")
        if not text.isascii() or "'" in text:
            if raw in PLACEHOLDERS:
                return None
            text = text.translate(_DIGIT_GROUPING)
        before, places = digits
        if text.isdigit() and text.isascii():  # the common case: a whole number
            whole = text.lstrip("0")
            if len(whole) > before:
                return _too_many_digits(len(whole), before)
            return Decimal(whole or "0")
        if raw in PLACEHOLDERS:
            return None
        negative = text[:1] in ("-", "−")
        if negative or text[:1] == "+":
            text = text[1:]
        commas = text.count(",")
        dots = text.count(".")
        fraction = ""
        if commas and dots:
            point = "," if text.rfind(",") > text.rfind(".") else "."
            grouping = "." if point == "," else ","
            whole, _, fraction = text.rpartition(point)
            if grouping in whole and not _THOUSANDS[grouping].fullmatch(whole):
                return _Bad("not a number")
            whole = whole.replace(grouping, "")
            self._learn(point == ",")
        elif commas + dots > 1:  # "1,234,567" or "1.234.567": grouping only
            separator = "," if commas else "."
            if not _THOUSANDS[separator].fullmatch(text):
                return _Bad("not a number")
            whole = text.replace(separator, "")
        elif commas or dots:
            separator = "," if commas else "."
            whole, _, fraction = text.partition(separator)
            if len(fraction) == 3 and 1 <= len(whole) <= 3 and whole[0] != "0":
                # "1,234": a thousands group or three decimals? Ask the mapping or the file.
                comma_is_point = self.decimal_comma
                is_point = True if comma_is_point is None else comma_is_point == (separator == ",")
                if not is_point:
                    whole, fraction = whole + fraction, ""
            else:
                self._learn(separator == ",")
        else:
            whole = text
        if not whole:
            whole = "0"  # ",5"
        if not (whole.isascii() and whole.isdigit()) or not (
            fraction.isascii() and (fraction.isdigit() or not fraction)
        ):
            return _Bad("not a number")
        whole = whole.lstrip("0")
        fraction = fraction.rstrip("0")
        if negative and (whole or fraction):
            return _Bad(f"negative {what}")
        if len(fraction) > places:
            rounded = Decimal(f"{whole or 0}.{fraction}").quantize(
                Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP
            )
            whole, _, fraction = format(rounded, "f").partition(".")
            whole = whole.lstrip("0")
            fraction = fraction.rstrip("0")
        if len(whole) > before:
            return _too_many_digits(len(whole), before)
        if fraction:
            return Decimal(f"{whole or 0}.{fraction}")
        return Decimal(whole or "0")

    def _learn(self, comma_is_point: bool) -> None:
        if self.decimal_comma is None and not self._decimal_comma_fixed:
            self.decimal_comma = comma_is_point

    def _party(self, raw: str) -> tuple[str, str, str] | _Bad:
        """(name with single spaces, normalised name, match keys); empty for "-"."""
        name = " ".join(raw.split())
        problem = _text_problem(name, MAX_CHARS["exporter"])
        if problem:
            return problem
        norm, keys = name_forms(name)
        if not norm:  # "-", "…": punctuation only, no party
            return ("", "", "{}")
        return (name, norm, keys)

    def _nul_rejects(self, line: int, values: list[str]) -> list[Reject]:
        """Rejects of the mapped values (defaults included) holding a NUL byte; the caller
        saw one somewhere in the row, perhaps in a column no field reads."""
        return [
            _reject(line, self.column[field], values[i], "contains a NUL byte")
            for field, i in self.index.items()
            if NUL in values[i]
        ]

    def _too_many(self, line: int, values: list[str]) -> list[Reject]:
        extra = " | ".join(values[self.width :])
        reason = f"too many fields ({len(values)}, the header has {self.width})"
        return [_reject(line, "(row)", extra, reason)]

    # --- shipments -----------------------------------------------------------------------------

    def _shipment_parser(self) -> Callable[[int, list[str]], ShipmentRow | list[Reject]]:
        width = self.width
        tail = self._tail
        index, column = self.index, self.column
        i_date, c_date = index["date"], column["date"]
        i_decl, c_decl = index["declaration_number"], column["declaration_number"]
        i_lineno, c_lineno = index["line"], column["line"]
        i_exp, c_exp = index["exporter"], column["exporter"]
        i_expc, c_expc = index["exporter_country"], column["exporter_country"]
        i_expid, c_expid = index["exporter_id"], column["exporter_id"]
        i_imp, c_imp = index["importer"], column["importer"]
        i_impc, c_impc = index["importer_country"], column["importer_country"]
        i_impid, c_impid = index["importer_id"], column["importer_id"]
        i_orig, c_orig = index["origin_country"], column["origin_country"]
        i_dest, c_dest = index["destination_country"], column["destination_country"]
        i_disp, c_disp = index["dispatch_country"], column["dispatch_country"]
        i_hs, c_hs = index["hs_code"], column["hs_code"]
        i_desc, c_desc = index["description"], column["description"]
        i_qty, c_qty = index["quantity"], column["quantity"]
        i_unit, c_unit = index["unit"], column["unit"]
        i_val, c_val = index["value"], column["value"]
        i_cur, c_cur = index["currency"], column["currency"]
        max_decl, max_lineno = MAX_CHARS["declaration_number"], MAX_CHARS["line"]
        max_desc, max_unit = MAX_CHARS["description"], MAX_CHARS["unit"]
        max_id = MAX_CHARS["exporter_id"]
        date_format = self.date_format
        date_get, date_miss = self._cached(lambda raw: parse_date(raw, date_format))
        country_get, country_miss = self._cached(parse_country)
        hs_get, hs_miss = self._cached(parse_hs_code)
        currency_get, currency_miss = self._cached(parse_currency)
        party_get, party_miss = self._cached(self._party)
        decimal = self._decimal
        country_columns = (
            (i_expc, c_expc), (i_impc, c_impc), (i_orig, c_orig), (i_dest, c_dest),
            (i_disp, c_disp),
        )  # fmt: skip
        required_missing = [(column[f], f) for f in self.required_missing]
        date_unmapped = "date" in self.required_missing
        hs_unmapped = "hs_code" in self.required_missing
        no_party = ("", "", "{}")
        Bad = _Bad  # a local name is faster to read on every value
        sha256 = hashlib.sha256

        def parse(line: int, values: list[str]) -> ShipmentRow | list[Reject]:
            size = len(values)
            if size != width:
                if size > width:
                    return self._too_many(line, values)
                values = values + [""] * (width - size)
            v = values + tail if tail else values
            if NUL in "".join(v):  # one scan of the row; NUL is rare, so the rest is too
                nul_rejects = self._nul_rejects(line, v)
                if nul_rejects:
                    return nul_rejects
            rejects: list[Reject] = []
            for col, field in required_missing:
                rejects.append(_reject(line, col, "", f"required: no column is mapped to {field}"))

            raw = v[i_date].strip()
            date = None
            if not raw:
                if not date_unmapped:
                    rejects.append(_reject(line, c_date, "", "required"))
            else:
                date = date_get(raw) or date_miss(raw)
                if type(date) is Bad:
                    rejects.append(_reject(line, c_date, raw, date))

            raw = v[i_hs].strip()
            hs = ""
            if not raw:
                if not hs_unmapped:
                    rejects.append(_reject(line, c_hs, "", "required"))
            else:
                hs = hs_get(raw) or hs_miss(raw)
                if type(hs) is Bad:
                    rejects.append(_reject(line, c_hs, raw, hs))

            decl = v[i_decl].strip()
            if decl and (len(decl) > max_decl or UNDECODABLE in decl):
                rejects.append(_reject(line, c_decl, decl, _text_problem(decl, max_decl)))
            line_no = v[i_lineno].strip()
            if line_no:
                if line_no.isdigit() and line_no.isascii():
                    line_no = line_no.lstrip("0") or "0"  # 001 and 1 are the same line
                if len(line_no) > max_lineno or UNDECODABLE in line_no:
                    reason = _text_problem(line_no, max_lineno)
                    rejects.append(_reject(line, c_lineno, line_no, reason))

            raw = v[i_exp].strip()
            exporter = party_get(raw) or party_miss(raw) if raw else no_party
            if type(exporter) is Bad:
                rejects.append(_reject(line, c_exp, raw, exporter))
            raw = v[i_imp].strip()
            importer = party_get(raw) or party_miss(raw) if raw else no_party
            if type(importer) is Bad:
                rejects.append(_reject(line, c_imp, raw, importer))

            exporter_id = v[i_expid].strip()
            if exporter_id:
                exporter_id = "".join(exporter_id.split())
                if len(exporter_id) > max_id or UNDECODABLE in exporter_id:
                    reason = _text_problem(exporter_id, max_id)
                    rejects.append(_reject(line, c_expid, exporter_id, reason))
            importer_id = v[i_impid].strip()
            if importer_id:
                importer_id = "".join(importer_id.split())
                if len(importer_id) > max_id or UNDECODABLE in importer_id:
                    reason = _text_problem(importer_id, max_id)
                    rejects.append(_reject(line, c_impid, importer_id, reason))

            countries = []
            for i, col in country_columns:
                raw = v[i].strip()
                if raw:
                    code = country_get(raw)
                    if code is None:
                        code = country_miss(raw)
                    if type(code) is Bad:
                        rejects.append(_reject(line, col, raw, code))
                    countries.append(code)
                else:
                    countries.append("")

            description = v[i_desc].strip()
            if len(description) > max_desc or UNDECODABLE in description:
                reason = _text_problem(description, max_desc)
                rejects.append(_reject(line, c_desc, description, reason))
            unit = v[i_unit].strip()
            if len(unit) > max_unit or UNDECODABLE in unit:
                rejects.append(_reject(line, c_unit, unit, _text_problem(unit, max_unit)))

            raw = v[i_qty].strip()
            quantity = decimal(raw, QUANTITY_DIGITS, "quantity") if raw else None
            if type(quantity) is Bad:
                rejects.append(_reject(line, c_qty, raw, quantity))
            value_raw = v[i_val].strip()
            value = decimal(value_raw, VALUE_DIGITS, "value") if value_raw else None
            if type(value) is Bad:
                rejects.append(_reject(line, c_val, value_raw, value))
            raw = v[i_cur].strip()
            currency = ""
            if raw:
                currency = currency_get(raw)
                if currency is None:
                    currency = currency_miss(raw)
                if type(currency) is Bad:
                    rejects.append(_reject(line, c_cur, raw, currency))
            if not currency and value is not None and type(value) is not Bad:
                col = c_cur if c_cur[0] != "(" else c_val
                rejects.append(_reject(line, col, raw or value_raw, "value without a currency"))

            if rejects:
                return rejects
            qty_text = "" if quantity is None else str(quantity)
            value_text = "" if value is None else str(value)
            if decl:
                import_key = f"decl:{decl}:{line_no}"
                if len(import_key) > IMPORT_KEY_CHARS:
                    digest = sha256(f"{decl}\x1f{line_no}".encode()).hexdigest()
                    import_key = f"decl:{digest}"
            else:
                canonical = "\x1f".join(
                    (
                        date.isoformat(), line_no, exporter[0], countries[0], exporter_id,
                        importer[0], countries[1], importer_id, countries[2], countries[3],
                        countries[4], hs, description, qty_text, unit, value_text, currency,
                    )
                )  # fmt: skip
                import_key = "sha:" + sha256(canonical.encode()).hexdigest()
            return ShipmentRow(
                line, date, hs, decl, line_no, exporter[0], exporter[1], exporter[2],
                countries[0], exporter_id, importer[0], importer[1], importer[2], countries[1],
                importer_id, countries[2], countries[3], countries[4], description, quantity,
                unit, value, currency, import_key,
            )  # fmt: skip

        return parse

    # --- companies -----------------------------------------------------------------------------

    def _company_parser(self) -> Callable[[int, list[str]], CompanyRow | list[Reject]]:
        width = self.width
        tail = self._tail
        index, column = self.index, self.column
        date_format = self.date_format
        country_get, country_miss = self._cached(parse_country)
        header_scheme = scheme_hint(self.mapping.columns.get("registration_number") or "")
        required_missing = [(column[f], f) for f in self.required_missing]

        def parse(line: int, values: list[str]) -> CompanyRow | list[Reject]:
            if len(values) > width:
                return self._too_many(line, values)
            if len(values) < width:
                values = values + [""] * (width - len(values))
            v = values + tail
            if NUL in "".join(v):
                nul_rejects = self._nul_rejects(line, v)
                if nul_rejects:
                    return nul_rejects
            rejects = [
                _reject(line, col, "", f"required: no column is mapped to {field}")
                for col, field in required_missing
            ]

            def get(field: str) -> str:
                return v[index[field]].strip()

            raw = get("name")
            name = norm = ""
            keys = "{}"
            if raw:
                party = self._party(raw)
                if isinstance(party, _Bad):
                    rejects.append(_reject(line, column["name"], raw, party))
                else:
                    name, norm, keys = party
            if not name and "name" not in self.required_missing:
                rejects.append(_reject(line, column["name"], raw, "required"))

            country = get("country")
            if country:
                code = country_get(country) or country_miss(country)
                if isinstance(code, _Bad):
                    rejects.append(_reject(line, column["country"], country, code))
                country = code

            scheme, number = Scheme.REGISTRATION.value, ""
            raw = get("registration_number")
            given = get("scheme")
            if given:
                scheme_value = _scheme(given)
                if scheme_value is None:
                    rejects.append(_reject(line, column["scheme"], given, "unknown scheme"))
                elif raw:
                    try:
                        number = clean_identifier(scheme_value, raw)
                        scheme = scheme_value
                    except InvalidIdentifier as error:
                        col = column["registration_number"]
                        rejects.append(_reject(line, col, raw, str(error)))
            elif raw:
                scheme, number = _guess_identifier(raw, country, header_scheme)
                problem = _text_problem(number, MAX_CHARS["registration_number"])
                if problem:
                    rejects.append(_reject(line, column["registration_number"], raw, problem))

            incorporated = get("incorporation_date")
            if incorporated:
                parsed = parse_partial_date(incorporated, date_format)
                if isinstance(parsed, _Bad):
                    col = column["incorporation_date"]
                    rejects.append(_reject(line, col, incorporated, parsed))
                incorporated = parsed

            address = " ".join(get("address").split())
            problem = _text_problem(address, MAX_CHARS["address"])
            if problem:
                rejects.append(_reject(line, column["address"], address, problem))

            if rejects:
                return rejects
            if number:
                qualifier = f"{country}:" if scheme == Scheme.REGISTRATION else ""
                import_key = f"id:{scheme}:{qualifier}{number}"
            else:
                # No identifier: the same name in the same country is the same company.
                digest = hashlib.sha256(f"{country}\x1f{norm}".encode()).hexdigest()
                import_key = f"name:{digest}"
            return CompanyRow(
                line=line,
                name=name,
                norm=norm,
                keys=keys,
                country=country,
                registration_number=number,
                scheme=scheme,
                incorporation_date=incorporated,
                address=address,
                import_key=import_key,
            )

        return parse


def _scheme(given: str) -> str | None:
    """A Scheme value from its value or its label ("kz_bin", "Kazakhstan BIN")."""
    wanted = given.strip().casefold()
    for value, label in Scheme.choices:
        if wanted in (value, str(label).casefold()):
            return value
    return None


def _guess_identifier(raw: str, country: str, header_scheme: str) -> tuple[str, str]:
    """(scheme, canonical number) for a registration number given without a scheme.

    The header ("БИН", "ИНН") or the country and the number of digits suggest a scheme; a
    number that fails that scheme's checks is kept as a plain registration number, since the
    guess, not the number, may be wrong.
    """
    digits = "".join(raw.split())
    candidates: list[str] = []
    if header_scheme == "kz_bin" and country in ("", "KZ"):
        candidates.append(Scheme.KZ_BIN)
    elif header_scheme in ("ru_inn", "ru_ogrn") and country in ("", "RU"):
        candidates.append(header_scheme)
    if digits.isascii() and digits.isdigit():
        if country == "KZ" and len(digits) == 12:
            candidates.append(Scheme.KZ_BIN)
        elif country == "RU" and len(digits) in (10, 12):
            candidates.append(Scheme.RU_INN)
        elif country == "RU" and len(digits) in (13, 15):
            candidates.append(Scheme.RU_OGRN)
    for scheme in candidates:
        try:
            return str(scheme), clean_identifier(scheme, raw)
        except InvalidIdentifier:
            continue
    return Scheme.REGISTRATION.value, " ".join(raw.split())
