"""A case file named on the command line, by slug or public id (export_ftm, case_report, ...)."""

import uuid

from django.core.management.base import CommandError

from investigations.models import Investigation


def find_case(ref: str) -> Investigation:
    """The case file with this slug or public id; a clear error otherwise."""
    try:
        public_id = uuid.UUID(ref)
    except ValueError:
        case = Investigation.objects.filter(slug=ref).first()
    else:
        case = Investigation.objects.filter(public_id=public_id).first()
    if case is None:
        raise CommandError(f"No case file with slug or public id {ref!r}.")
    return case
