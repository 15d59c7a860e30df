"""Input of the analysis pages: expansion and path parameters, the layout payload, uploads."""

import json
import math
import re
import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from ..codes import country_names
from .flows import FlowFilters
from .graph import EDGE_KINDS, EDGE_LABELS

KIND_CHOICES = [(k, EDGE_LABELS[k]) for k in EDGE_KINDS]
# Paths follow these by default; "other" links say too little to count as a connection.
PATH_KINDS = ("Ownership", "Directorship", "Family", "Employment", "Trade")
# A layout payload: at most this many positions, coordinates within this box.
LAYOUT_MAX_POSITIONS = 20_000
LAYOUT_MAX_COORDINATE = 1e7


class ExpandForm(forms.Form):
    entity = forms.UUIDField()
    hops = forms.TypedChoiceField(
        choices=[(1, "1"), (2, "2")], coerce=int, required=False, empty_value=1
    )
    datasets = forms.BooleanField(required=False)
    kinds = forms.MultipleChoiceField(choices=KIND_CHOICES, required=False)


class PathForm(forms.Form):
    """The two ends come from the entity pickers (hidden inputs named source and target)."""

    source = forms.UUIDField(required=False)
    target = forms.UUIDField(required=False)
    kinds = forms.MultipleChoiceField(
        choices=KIND_CHOICES,
        required=False,
        initial=list(PATH_KINDS),
        widget=forms.CheckboxSelectMultiple,
        label="Through",
    )
    datasets = forms.BooleanField(
        required=False, label="Also through the shared datasets' links and shipments"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("kinds"):
            data["kinds"] = list(PATH_KINDS)
        if data.get("source") and data.get("source") == data.get("target"):
            raise ValidationError("Choose two different entities.")
        return data


def parse_layout(body: bytes) -> tuple[dict[str, list[float]], list[str]]:
    """{"positions": {entity id: [x, y]}, "hidden": [kind, ...]} from a request body.

    Raises ValidationError with a message for people on anything else.
    """
    try:
        data = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("The layout is not JSON.") from exc
    if not isinstance(data, dict):
        raise ValidationError("The layout is a JSON object.")
    positions = data.get("positions", {})
    hidden = data.get("hidden", [])
    if not isinstance(positions, dict) or len(positions) > LAYOUT_MAX_POSITIONS:
        raise ValidationError(f"Positions: an object of at most {LAYOUT_MAX_POSITIONS} entries.")
    clean: dict[str, list[float]] = {}
    for key, value in positions.items():
        try:
            node = str(uuid.UUID(str(key)))
        except ValueError as exc:
            raise ValidationError(f"Positions: {str(key)[:40]!r} is not an entity id.") from exc
        if not (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            and all(math.isfinite(v) and abs(v) <= LAYOUT_MAX_COORDINATE for v in value)
        ):
            raise ValidationError(f"Positions: {node} needs [x, y] as two finite numbers.")
        clean[node] = [round(float(value[0]), 1), round(float(value[1]), 1)]
    if not isinstance(hidden, list) or not all(k in EDGE_KINDS for k in hidden):
        raise ValidationError(f"Hidden: a list of kinds among {', '.join(EDGE_KINDS)}.")
    return clean, list(dict.fromkeys(hidden))


class ScreeningForm(forms.Form):
    file = forms.FileField(
        label="CSV of names",
        help_text="Columns: name (required), country and date_of_birth (optional). "
        "UTF-8 or Windows-1251; comma, semicolon or tab.",
    )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        limit = settings.SCREENING_MAX_BYTES
        if uploaded.size > limit:
            raise ValidationError(
                f"The file is {uploaded.size:,} bytes; screening takes at most {limit:,}."
            )
        return uploaded


class FlowFilterForm(forms.Form):
    """The flows page's query string; invalid fields fall back to their defaults."""

    level = forms.ChoiceField(
        required=False,
        initial="chapter",
        choices=[("chapter", "HS chapter (2 digits)"), ("heading", "HS heading (4 digits)")],
        widget=forms.Select(attrs={"id": "flows-level"}),
    )
    by = forms.ChoiceField(
        required=False,
        initial="destination",
        choices=[("destination", "Destination country"), ("origin", "Origin country")],
        widget=forms.Select(attrs={"id": "flows-by"}),
    )
    hs = forms.CharField(
        required=False,
        max_length=10,
        label="HS prefix",
        widget=forms.TextInput(
            attrs={
                "id": "flows-hs",
                "inputmode": "numeric",
                "placeholder": "HS prefix: 8542",
                "class": "short",
            }
        ),
    )
    country = forms.ChoiceField(required=False, widget=forms.Select(attrs={"id": "flows-country"}))
    currency = forms.CharField(required=False, max_length=3)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "Any country"), *country_names().items()]

    def clean_hs(self) -> str:
        value = re.sub(r"[\s.]", "", self.cleaned_data["hs"])
        if value and not value.isdigit():
            raise ValidationError("An HS prefix is digits only.")
        return value

    def clean_currency(self) -> str:
        value = self.cleaned_data["currency"].strip().upper()
        return value if re.fullmatch(r"[A-Z]{3}", value) else ""

    def selector_kwargs(self) -> FlowFilters:
        """Keyword arguments for flow_table from the valid fields; defaults for the rest."""
        data: dict[str, Any] = {}
        if self.is_bound:
            self.is_valid()
            data = self.cleaned_data  # holds the valid fields even when another one is not
        return {
            "level": data.get("level") or "chapter",
            "by": data.get("by") or "destination",
            "hs_prefix": data.get("hs") or "",
            "country": data.get("country") or "",
            "currency": data.get("currency") or "",
        }
