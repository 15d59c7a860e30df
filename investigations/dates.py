"""Dates people type, checked with an error that says what is wrong.

"2022-13" is "Month 13 does not exist.", "2022-04-31" is "31 April does not exist.", not
"Enter a valid date.". Entity and link dates may be partial, as in FollowTheMoney ("2022",
"2022-04"); shipment and document dates are whole days (DayField).
"""

import calendar
import datetime
import re

from django import forms
from django.core.exceptions import ValidationError

from .formatting import MONTHS

_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
FORMAT_HINT = "YYYY, YYYY-MM or YYYY-MM-DD"


def check_parts(year: int, month: int | None, day: int | None) -> None:
    """Raise ValidationError naming the part that does not exist."""
    if month is not None and not 1 <= month <= 12:
        raise ValidationError(f"Month {month} does not exist (months are 01 to 12).")
    if day is None or month is None:
        return
    name = MONTHS[month - 1]
    if day < 1:
        raise ValidationError(f"Day {day} does not exist (days start at 01).")
    last = calendar.monthrange(year, month)[1]
    if day > last:
        if month == 2 and day == 29:
            raise ValidationError(f"29 February {year} does not exist: {year} is not a leap year.")
        raise ValidationError(f"{day} {name} does not exist ({name} has {last} days).")


def clean_partial_date(value: str) -> str:
    """ "2022", "2022-4" or "2022-04-07" -> the ISO form ("2022-04"); "" stays ""."""
    value = (value or "").strip()
    if not value:
        return ""
    match = _ISO.match(value)
    if not match:
        raise ValidationError(f"Write the date as {FORMAT_HINT} (got “{value}”).")
    year, month, day = (int(part) if part else None for part in match.groups())
    check_parts(year, month, day)
    parts = [f"{year:04d}"] + [f"{p:02d}" for p in (month, day) if p is not None]
    return "-".join(parts)


def check_range(form: forms.Form, start_field: str, end_field: str) -> None:
    """The end is not before the start (partial ISO dates compare as the database does)."""
    start, end = form.cleaned_data.get(start_field), form.cleaned_data.get(end_field)
    if start and end and end < start:
        form.add_error(end_field, "The end is before the start.")


class DayField(forms.DateField):
    """A whole date (YYYY-MM-DD or DD.MM.YYYY); a day that does not exist says which."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError:
            explained = _explain(str(value).strip())
            if explained is not None:
                raise explained from None
            raise


def _explain(value: str) -> ValidationError | None:
    match = re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})$", value) or None
    if match:
        year, month, day = (int(p) for p in match.groups())
    else:
        dmy = re.match(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$", value)
        if not dmy:
            return ValidationError(f"Write the date as YYYY-MM-DD (got “{value}”).")
        day, month, year = (int(p) for p in dmy.groups())
    try:
        check_parts(year, month, day)
        datetime.date(year, month, day)
    except ValidationError as exc:
        return exc
    except ValueError:
        return None
    return None
