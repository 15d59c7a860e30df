"""How numbers, dates and durations read on every page and in the activity feed.

One place, so a table, its totals and a sentence in the feed print 1,200,000 and 2 Apr 2022
alike. Decimals are formatted as Decimals (never through float), so a total is as exact as
the rows it adds up.
"""

import datetime
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def number(value: Any, places: int | None = None) -> str:
    """1200000 -> "1,200,000"; Decimal("119508.00") -> "119,508" or, with places=2,
    "119,508.00". Anything that is not a number comes back as text; None as ""."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}" if places is None else f"{value:,.{places}f}"
    try:
        exact = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not exact.is_finite():
        return str(value)
    if places is not None:
        return f"{exact:,.{places}f}"
    # No trailing zeros (2598.000 -> 2,598), and never scientific notation (1E+3 -> 1,000).
    return f"{exact.normalize():,f}"


def date_label(value: Any) -> str:
    """A date for people: 2 Apr 2022. Accepts dates, datetimes and ISO strings."""
    if isinstance(value, str):
        try:
            value = (
                datetime.datetime.fromisoformat(value)
                if "T" in value or " " in value
                else datetime.date.fromisoformat(value)
            )
        except ValueError:
            return partial_date_label(value)
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return f"{value.day} {MONTHS[value.month - 1][:3]} {value.year}, {value:%H:%M}"
    if isinstance(value, datetime.date):
        return f"{value.day} {MONTHS[value.month - 1][:3]} {value.year}"
    return "" if value is None else str(value)


def partial_date_label(value: str) -> str:
    """An ISO date that may be partial, as FtM writes them: 2022, Apr 2022, 7 Apr 2022."""
    match = _PARTIAL.match(value or "")
    if not match:
        return value or ""
    year, month, day = match.groups()
    if not month or not 1 <= int(month) <= 12:
        return year
    name = MONTHS[int(month) - 1][:3]
    return f"{int(day)} {name} {year}" if day else f"{name} {year}"


def duration_label(seconds: float | None) -> str:
    """2.1 s, 48 s, 3 min 5 s, 1 h 2 min."""
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """plural(1, "row") -> "1 row"; plural(1200000, "row") -> "1,200,000 rows"."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{number(count)} {word}"


def size_label(size: int | None) -> str:
    """1,234 bytes, 56 KB, 7.8 MB (decimal units, as the upload limits are written)."""
    if size is None:
        return ""
    if size < 1000:
        return plural(size, "byte")
    for unit in ("KB", "MB", "GB"):
        size /= 1000
        if size < 1000 or unit == "GB":
            return f"{size:.1f} {unit}" if size < 10 else f"{number(round(size))} {unit}"
    return ""


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
