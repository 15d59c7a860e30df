"""ISO 3166-1 alpha-2 countries, ISO 4217 currencies and HS codes, from babel's CLDR data."""

import re
from functools import cache

from babel import Locale
from babel.numbers import list_currencies
from django.core.exceptions import ValidationError

# CLDR pseudo-territories that are not countries (XK, Kosovo, stays: customs data uses it).
NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "XA", "XB", "ZZ"})
HS_CODE = re.compile(r"^[0-9]{2,10}$")


@cache
def country_names() -> dict[str, str]:
    territories = Locale("en").territories
    return {
        code: name
        for code, name in sorted(territories.items(), key=lambda kv: kv[1])
        if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    }


@cache
def currency_codes() -> frozenset[str]:
    return frozenset(list_currencies())


@cache
def _country_lookup() -> dict[str, str]:
    """Lower-cased codes and English names -> code, for forms and imports."""
    lookup: dict[str, str] = {}
    for code, name in country_names().items():
        lookup[code.lower()] = code
        lookup[name.casefold()] = code
    return lookup


def clean_country(value: str) -> str:
    """An ISO 3166-1 alpha-2 code (upper case) from a code or an English country name."""
    code = _country_lookup().get((value or "").strip().casefold())
    if code is None:
        raise ValidationError(f"“{value}” is not an ISO 3166 country code or name.")
    return code


def clean_currency(value: str) -> str:
    code = (value or "").strip().upper()
    if code not in currency_codes():
        raise ValidationError(f"“{value}” is not an ISO 4217 currency code.")
    return code


def clean_hs_code(value: str) -> str:
    code = re.sub(r"[\s.]", "", value or "")
    if not HS_CODE.match(code):
        raise ValidationError(
            f"“{value}” is not an HS code: use 2 to 10 digits, e.g. 8542 or 854231."
        )
    return code


def country_name(code: str) -> str:
    return country_names().get(code, code)
