"""Validate company and person identifiers and reduce them to one canonical, compact form."""

import re
import unicodedata
from collections.abc import Callable

from django.db import models
from stdnum import lei
from stdnum.de import handelsregisternummer
from stdnum.de import vat as de_vat
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)
from stdnum.ru import inn as ru_inn
from stdnum.ru import ogrn as ru_ogrn


class Scheme(models.TextChoices):
    """The identifier schemes an entity can carry."""

    KZ_BIN = "kz_bin", "Kazakhstan BIN"
    KZ_IIN = "kz_iin", "Kazakhstan IIN"
    RU_INN = "ru_inn", "Russia INN"
    RU_OGRN = "ru_ogrn", "Russia OGRN / OGRNIP"
    RU_KPP = "ru_kpp", "Russia KPP"
    LEI = "lei", "LEI"
    DE_REGISTER = "de_register", "Germany Handelsregister"
    DE_VAT = "de_vat", "Germany VAT"
    GB_COMPANY = "gb_company", "UK company number"
    EU_VAT = "eu_vat", "EU VAT"
    REGISTRATION = "registration", "Other registration number"


# What a valid value looks like, for the entity form's scheme picker ("KZ BIN — 12 digits").
FORMAT_HINTS: dict[str, str] = {
    Scheme.KZ_BIN: "12 digits",
    Scheme.KZ_IIN: "12 digits",
    Scheme.RU_INN: "10 or 12 digits",
    Scheme.RU_OGRN: "13 or 15 digits",
    Scheme.RU_KPP: "9 characters",
    Scheme.LEI: "20 letters and digits",
    Scheme.DE_REGISTER: "court, register and number: Bremen HRB 12345",
    Scheme.DE_VAT: "DE and 9 digits",
    Scheme.GB_COMPANY: "8 characters: 01234567, SC123456",
    Scheme.EU_VAT: "country code and number: FR40303265045",
    Scheme.REGISTRATION: "as written by the register",
}
SCHEME_CHOICES: list[tuple[str, str]] = [
    (scheme.value, f"{scheme.label} — {FORMAT_HINTS[scheme]}") for scheme in Scheme
]

FTM_PROPERTY: dict[str, str] = {
    Scheme.KZ_BIN: "registrationNumber",
    Scheme.KZ_IIN: "idNumber",
    Scheme.RU_INN: "innCode",
    Scheme.RU_OGRN: "ogrnCode",
    Scheme.RU_KPP: "kppCode",
    Scheme.LEI: "leiCode",
    Scheme.DE_REGISTER: "registrationNumber",
    Scheme.DE_VAT: "vatCode",
    Scheme.GB_COMPANY: "registrationNumber",
    Scheme.EU_VAT: "vatCode",
    Scheme.REGISTRATION: "registrationNumber",
}

REGISTRATION_MAX_LENGTH = 64

# Companies House prefixes followed by six digits; unprefixed numbers are England & Wales.
GB_COMPANY_PREFIXES = frozenset(
    {
        "SC", "NI", "R0",  # companies: Scotland, Northern Ireland, Northern Ireland pre-partition
        "OC", "SO", "NC",  # limited liability partnerships
        "LP", "SL", "NL",  # limited partnerships
        "SG",  # Scottish qualifying partnerships
        "FC", "SF", "NF",  # overseas companies
        "GE", "GS", "GN",  # European Economic Interest Groupings
        "SE", "ES", "EN",  # European companies (Societas Europaea)
        "AC", "SA", "NA",  # assurance companies
        "ZC", "SZ", "NZ",  # unregistered companies
        "IP", "SP", "NP", "RS",  # industrial and provident / registered societies
        "IC", "SI", "NV",  # investment companies with variable capital
        "RC", "SR", "NR",  # royal charter bodies
        "CE", "CS",  # charitable incorporated organisations
    }
)  # fmt: skip


class InvalidIdentifier(ValueError):
    """An identifier that does not fit its scheme, with a reason a reporter understands."""

    def __init__(self, scheme: str, message: str) -> None:
        self.scheme = str(scheme)  # a plain value even when given a Scheme member
        self.message = message
        super().__init__(self.scheme, message)  # keeps the exception picklable

    @property
    def label(self) -> str:
        """The scheme's human label, or "identifier" for an unknown scheme."""
        return Scheme(self.scheme).label if self.scheme in Scheme.values else "identifier"

    def __str__(self) -> str:
        return f"Not a valid {self.label}: {self.message}."


def clean_identifier(scheme: str, value: str) -> str:
    """Validate value under scheme and return its canonical form, or raise InvalidIdentifier."""
    cleaner = _CLEANERS.get(scheme)
    if cleaner is None:
        raise InvalidIdentifier(scheme, f"{scheme!r} is not a known identifier scheme")
    if not value or not value.strip():
        raise InvalidIdentifier(scheme, "it is empty")
    return cleaner(value)


def kz_bin_iin_check_digit(number: str) -> int | None:
    """The check digit for the first 11 digits of a BIN/IIN, or None when no digit can be valid."""
    if len(number) not in (11, 12) or not _is_digits(number):
        raise ValueError(f"expected 11 or 12 digits, got {number!r}")
    digits = [int(d) for d in number[:11]]
    total = sum(d * w for d, w in zip(digits, range(1, 12), strict=True)) % 11
    if total == 10:
        total = sum(d * w for d, w in zip(digits, _KZ_SECOND_WEIGHTS, strict=True)) % 11
    return None if total == 10 else total


def kz_bin_iin_is_valid(number: str) -> bool:
    """Whether number is 12 digits with a matching BIN/IIN check digit (structure not checked)."""
    number = _compact_chars(number)
    if len(number) != 12 or not _is_digits(number):
        return False
    return kz_bin_iin_check_digit(number) == int(number[11])


# --- shared helpers ---------------------------------------------------------------------------

_KZ_SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_SEPARATORS = re.compile(r"[\s\-./\u2010-\u2015\u2212]+")
_DIGITS = re.compile(r"[0-9]+")


def _is_digits(text: str) -> bool:
    """Whether text is ASCII digits only (str.isdigit also accepts other scripts' digits)."""
    return _DIGITS.fullmatch(text) is not None


def _compact_chars(value: str) -> str:
    """NFKC-normalise, drop whitespace, dashes, dots and slashes, and upper-case."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value)).upper()


def _compact(scheme: str, value: str) -> str:
    """The compact form of value, raising InvalidIdentifier if nothing but separators is left."""
    number = _compact_chars(value)
    if not number:
        raise InvalidIdentifier(scheme, "it is empty")
    return number


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _length_message(actual: int, expected: tuple[int, ...], noun: str) -> str:
    wanted = " or ".join(str(n) for n in expected)
    return f"it has the wrong length: {_plural(actual, noun)} instead of {wanted}"


def _require_digits(scheme: str, number: str, lengths: tuple[int, ...]) -> None:
    """Raise InvalidIdentifier unless number is ASCII digits of one of the given lengths."""
    bad = next((c for c in number if not "0" <= c <= "9"), None)
    if bad is not None:
        raise InvalidIdentifier(scheme, f"it must contain only digits, not {bad!r}")
    if len(number) not in lengths:
        raise InvalidIdentifier(scheme, _length_message(len(number), lengths, "digit"))


def _stdnum_message(error: ValidationError, *, checks: str = "check digit does") -> str:
    """A reporter-facing reason for a python-stdnum validation error."""
    if isinstance(error, InvalidChecksum):
        return f"the {checks} not match"
    if isinstance(error, InvalidLength):  # a subclass of InvalidFormat: test it first
        return "it has the wrong length"
    if isinstance(error, InvalidFormat):
        return "it is not in the expected format"
    if isinstance(error, InvalidComponent):
        return "part of it is not a valid value"
    return "it is not valid"


# --- Kazakhstan -------------------------------------------------------------------------------


def _kz_check(scheme: str, number: str) -> None:
    expected = kz_bin_iin_check_digit(number)
    if expected is None:
        raise InvalidIdentifier(
            scheme, "the check digit does not match (no check digit fits the first 11 digits)"
        )
    if expected != int(number[11]):
        raise InvalidIdentifier(scheme, "the check digit does not match")


def _kz_month(scheme: str, number: str, what: str) -> None:
    if not 1 <= int(number[2:4]) <= 12:
        raise InvalidIdentifier(scheme, f"digits 3-4 must be {what} 01-12, not {number[2:4]}")


def _clean_kz_bin(value: str) -> str:
    scheme = Scheme.KZ_BIN
    number = _compact(scheme, value)
    _require_digits(scheme, number, (12,))
    _kz_month(scheme, number, "the registration month")
    if number[4] not in "456":
        raise InvalidIdentifier(
            scheme, f"digit 5 must be the entity type 4, 5 or 6, not {number[4]}"
        )
    if number[5] not in "0123":
        raise InvalidIdentifier(scheme, f"digit 6 must be 0, 1, 2 or 3, not {number[5]}")
    _kz_check(scheme, number)
    return number


def _clean_kz_iin(value: str) -> str:
    scheme = Scheme.KZ_IIN
    number = _compact(scheme, value)
    _require_digits(scheme, number, (12,))
    _kz_month(scheme, number, "the birth month")
    if not 1 <= int(number[4:6]) <= 31:
        raise InvalidIdentifier(
            scheme, f"digits 5-6 must be the birth day 01-31, not {number[4:6]}"
        )
    if number[6] not in "0123456":
        raise InvalidIdentifier(
            scheme, f"digit 7 must be the century and sex digit 0-6, not {number[6]}"
        )
    _kz_check(scheme, number)
    return number


# --- Russia -----------------------------------------------------------------------------------


def _clean_ru_inn(value: str) -> str:
    scheme = Scheme.RU_INN
    number = _compact(scheme, value)
    _require_digits(scheme, number, (10, 12))
    try:
        return ru_inn.validate(number)
    except ValidationError as error:
        checks = "check digit does" if len(number) == 10 else "check digits do"
        raise InvalidIdentifier(scheme, _stdnum_message(error, checks=checks)) from error


def _clean_ru_ogrn(value: str) -> str:
    scheme = Scheme.RU_OGRN
    number = _compact(scheme, value)
    _require_digits(scheme, number, (13, 15))
    if len(number) == 13:
        try:
            return ru_ogrn.validate(number)
        except InvalidComponent as error:
            raise InvalidIdentifier(scheme, "an OGRN cannot start with 0") from error
        except ValidationError as error:
            raise InvalidIdentifier(scheme, _stdnum_message(error)) from error
    # OGRNIP. stdnum compares the last digit with the whole remainder mod 13 and so rejects
    # remainders 10-12; the registry's rule keeps only the remainder's last digit.
    if number[0] not in "34":
        raise InvalidIdentifier(scheme, f"an OGRNIP must start with 3 or 4, not {number[0]}")
    if int(number[:14]) % 13 % 10 != int(number[14]):
        raise InvalidIdentifier(scheme, "the check digit does not match")
    return number


_KPP = re.compile(r"[0-9]{4}[0-9A-Z]{2}[0-9]{3}")


def _clean_ru_kpp(value: str) -> str:
    scheme = Scheme.RU_KPP
    number = _compact(scheme, value)
    if len(number) != 9:
        raise InvalidIdentifier(scheme, _length_message(len(number), (9,), "character"))
    if not _KPP.fullmatch(number):
        raise InvalidIdentifier(
            scheme, "it must be 4 digits, then 2 digits or Latin letters A-Z, then 3 digits"
        )
    return number


# --- international / EU -----------------------------------------------------------------------

_LEI = re.compile(r"[0-9A-Z]{18}[0-9]{2}")


def _clean_lei(value: str) -> str:
    scheme = Scheme.LEI
    number = _compact(scheme, value)
    # stdnum.lei only runs the mod-97 check, which short strings such as "01" pass.
    if len(number) != 20:
        raise InvalidIdentifier(scheme, _length_message(len(number), (20,), "character"))
    if not _LEI.fullmatch(number):
        raise InvalidIdentifier(
            scheme, "it must be 18 digits or Latin letters A-Z followed by 2 check digits"
        )
    try:
        return lei.validate(number)
    except ValidationError as error:
        raise InvalidIdentifier(scheme, _stdnum_message(error, checks="check digits do")) from error


def _clean_eu_vat(value: str) -> str:
    scheme = Scheme.EU_VAT
    number = _compact(scheme, value)
    if number.startswith("GR"):  # VAT numbers of Greece use EL, the ISO code GR is not used
        number = "EL" + number[2:]
    country = number[:2]
    known = country.lower() in eu_vat.MEMBER_STATES | {"el", "eu", "im"}
    try:
        return eu_vat.validate(number)
    except InvalidComponent as error:
        if not known:
            raise InvalidIdentifier(
                scheme,
                "it must start with the code of an EU member state "
                "(EL for Greece, XI for Northern Ireland)",
            ) from error
        raise InvalidIdentifier(
            scheme, f"part of it is not valid for a {country} VAT number"
        ) from error
    except InvalidLength as error:
        raise InvalidIdentifier(
            scheme, f"it has the wrong length for a {country} VAT number"
        ) from error
    except InvalidFormat as error:
        raise InvalidIdentifier(
            scheme, f"it is not in the format of a {country} VAT number"
        ) from error
    except ValidationError as error:
        raise InvalidIdentifier(scheme, _stdnum_message(error)) from error


# --- Germany ----------------------------------------------------------------------------------


def _clean_de_vat(value: str) -> str:
    scheme = Scheme.DE_VAT
    number = _compact(scheme, value).removeprefix("DE")
    _require_digits(scheme, number, (9,))
    if number[0] == "0":
        raise InvalidIdentifier(scheme, "the first digit after DE cannot be 0")
    try:
        # stdnum returns the 9 digits without "DE"; we keep the prefix, as EU VAT does.
        return "DE" + de_vat.validate(number)
    except ValidationError as error:
        raise InvalidIdentifier(scheme, _stdnum_message(error)) from error


_REGISTRY_TYPES = {kind.upper(): kind for kind in handelsregisternummer.REGISTRY_TYPES}
_HANDELSREGISTER = re.compile(
    rf"(?P<court>.+) (?P<kind>{'|'.join(_REGISTRY_TYPES.values())}) (?P<number>[0-9]+)"
    r"(?: (?P<suffix>\S+))?",
    re.IGNORECASE,
)


def _clean_de_register(value: str) -> str:
    scheme = Scheme.DE_REGISTER
    text = " ".join(unicodedata.normalize("NFKC", value).split())
    try:
        result = handelsregisternummer.validate(text)
    except InvalidComponent as error:
        raise InvalidIdentifier(scheme, "the court is not a known German register court") from error
    except ValidationError as error:
        raise InvalidIdentifier(
            scheme,
            "it must be a court, a register (HRA, HRB, GnR, PR or VR) and a number "
            "not starting with 0, e.g. Aachen HRB 44123",
        ) from error
    # stdnum canonicalises the court but keeps the register type and suffix as typed ("hrb").
    match = _HANDELSREGISTER.fullmatch(result)
    if match is None:
        return result
    parts = [match["court"], _REGISTRY_TYPES[match["kind"].upper()], match["number"]]
    if match["suffix"]:
        parts.append(match["suffix"].upper())
    return " ".join(parts)


# --- United Kingdom ---------------------------------------------------------------------------


def _clean_gb_company(value: str) -> str:
    scheme = Scheme.GB_COMPANY
    number = _compact(scheme, value)
    if _is_digits(number):
        if len(number) > 8:
            raise InvalidIdentifier(scheme, _length_message(len(number), (8,), "digit"))
        return number.zfill(8)  # Companies House pads to eight digits: 123456 -> 00123456
    if len(number) != 8:
        raise InvalidIdentifier(scheme, _length_message(len(number), (8,), "character"))
    if number[:2] not in GB_COMPANY_PREFIXES:
        raise InvalidIdentifier(
            scheme,
            f"{number[:2]} is not a Companies House prefix; use 8 digits or a prefix "
            "such as SC, NI, OC or LP followed by 6 digits",
        )
    if not _is_digits(number[2:]):
        raise InvalidIdentifier(scheme, f"the prefix {number[:2]} must be followed by 6 digits")
    return number


# --- free-form --------------------------------------------------------------------------------


def _clean_registration(value: str) -> str:
    text = " ".join(value.split())
    if len(text) > REGISTRATION_MAX_LENGTH:
        raise InvalidIdentifier(
            Scheme.REGISTRATION,
            f"it is {len(text)} characters long, more than {REGISTRATION_MAX_LENGTH}",
        )
    return text


_CLEANERS: dict[str, Callable[[str], str]] = {
    Scheme.KZ_BIN: _clean_kz_bin,
    Scheme.KZ_IIN: _clean_kz_iin,
    Scheme.RU_INN: _clean_ru_inn,
    Scheme.RU_OGRN: _clean_ru_ogrn,
    Scheme.RU_KPP: _clean_ru_kpp,
    Scheme.LEI: _clean_lei,
    Scheme.DE_REGISTER: _clean_de_register,
    Scheme.DE_VAT: _clean_de_vat,
    Scheme.GB_COMPANY: _clean_gb_company,
    Scheme.EU_VAT: _clean_eu_vat,
    Scheme.REGISTRATION: _clean_registration,
}
