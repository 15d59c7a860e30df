"""Entity, link and shipment forms. Every bad value is a form error saying what is wrong."""

import re
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorDict

from investigations.dates import FORMAT_HINT, DayField, check_range, clean_partial_date

from .codes import clean_country, clean_currency, clean_hs_code, country_names
from .identifiers import SCHEME_CHOICES, InvalidIdentifier, Scheme, clean_identifier
from .models import LinkKind, Schema


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


class CountriesField(forms.CharField):
    """Comma-separated ISO codes or English names -> list of upper-case ISO codes."""

    def clean(self, value):
        value = super().clean(value)
        codes = [clean_country(part) for part in re.split(r"[,;]", value or "") if part.strip()]
        return list(dict.fromkeys(codes))


class PartialDateField(forms.CharField):
    """2022, 2022-04 or 2022-04-07, as FtM writes dates; "month 13 does not exist"."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 10)
        kwargs.setdefault("help_text", FORMAT_HINT)
        super().__init__(**kwargs)

    def clean(self, value):
        return clean_partial_date(super().clean(value))


@dataclass
class IdentifierRow:
    """One scheme + value row of the entity form, with its own error."""

    key: str  # unique within the form: ids of its inputs
    scheme: str
    value: str
    error: str = ""


class EntityForm(forms.Form):
    """An entity; its identifiers are rows of scheme + value (identifier_scheme and
    identifier_value, repeated). Adding or removing a row without JavaScript submits the form
    with identifier_add / identifier_remove=<row>: it comes back with the rows changed and
    nothing saved."""

    schema = forms.ChoiceField(choices=Schema.choices, label="Kind")
    name = forms.CharField(max_length=500)
    aliases = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Other spellings and former names, one per line (Cyrillic welcome).",
    )
    countries = CountriesField(
        required=False, help_text="ISO codes or names, comma-separated: KZ, RU, Germany."
    )
    nationality = CountriesField(required=False, help_text="People only: ISO codes or names.")
    start_date = PartialDateField(label="Incorporated / born")
    end_date = PartialDateField(label="Dissolved / died")
    # Filled from the identifier rows (clean_identifiers); never rendered as a field.
    identifiers = forms.Field(required=False, widget=forms.HiddenInput)
    addresses = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="One per line."
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    source = forms.CharField(
        required=False,
        max_length=500,
        help_text="Where this comes from: a register, a document, a URL.",
    )

    scheme_choices = SCHEME_CHOICES
    blank_identifier_row = IdentifierRow("__row__", "", "")  # the template static/js/app.js clones

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.editing_rows = False
        if self.is_bound:
            self.identifier_rows = self._posted_rows()
        else:
            pairs = self.initial.get("identifiers") or []
            self.identifier_rows = [
                IdentifierRow(str(i), scheme, value) for i, (scheme, value) in enumerate(pairs)
            ]
        if not any(not row.value for row in self.identifier_rows):
            self.identifier_rows.append(IdentifierRow(str(len(self.identifier_rows)), "", ""))

    def _posted_rows(self) -> list[IdentifierRow]:
        schemes = self.data.getlist("identifier_scheme")
        values = self.data.getlist("identifier_value")
        rows = [
            IdentifierRow(str(i), scheme.strip(), value.strip())
            for i, (scheme, value) in enumerate(zip(schemes, values, strict=False))
        ]
        removed = self.data.get("identifier_remove")
        if removed is not None:
            self.editing_rows = True
            rows = [row for row in rows if row.key != removed]
        if self.data.get("identifier_add"):
            self.editing_rows = True
            rows.append(IdentifierRow(str(len(schemes)), "", ""))
        return rows

    def full_clean(self) -> None:
        if self.is_bound and self.editing_rows:  # only rows added or removed: no errors yet
            self._errors, self.cleaned_data = ErrorDict(), {}
            return
        super().full_clean()

    def is_valid(self) -> bool:
        return not self.editing_rows and super().is_valid()

    def clean_aliases(self):
        return _lines(self.cleaned_data["aliases"])

    def clean_addresses(self):
        return _lines(self.cleaned_data["addresses"])

    def clean_identifiers(self):
        result, bad = [], 0
        for row in self.identifier_rows:
            if not row.value:
                continue  # an empty row is an unused row
            scheme = row.scheme.lower()
            if scheme not in Scheme.values:
                row.error = "Choose the kind of identifier."
            else:
                try:
                    result.append((scheme, clean_identifier(scheme, row.value)))
                    continue
                except InvalidIdentifier as exc:
                    row.error = str(exc)
            bad += 1
        if bad:
            raise ValidationError(
                "Check the identifier marked below."
                if bad == 1
                else f"Check the {bad} identifiers marked below."
            )
        return list(dict.fromkeys(result))

    def clean(self):
        data = super().clean()
        check_range(self, "start_date", "end_date")
        if data.get("nationality") and data.get("schema") != Schema.PERSON:
            self.add_error("nationality", "Only people have a nationality.")
        return data

    @classmethod
    def initial_for(cls, entity) -> dict:
        return {
            "schema": entity.schema,
            "name": entity.name,
            "aliases": "\n".join(entity.aliases),
            "countries": ", ".join(entity.countries),
            "nationality": ", ".join(entity.nationality),
            "start_date": entity.start_date,
            "end_date": entity.end_date,
            "addresses": "\n".join(entity.addresses),
            "notes": entity.notes,
            "source": entity.source,
            "identifiers": [(i.scheme, i.value) for i in entity.identifiers.all()],
        }


class LinkForm(forms.Form):
    DIRECTIONS = [("out", "this entity is the first party"), ("in", "the other entity is")]

    kind = forms.ChoiceField(choices=LinkKind.choices)
    direction = forms.ChoiceField(choices=DIRECTIONS, initial="out", widget=forms.RadioSelect)
    other = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={"required": "Choose the other party from the list."},
    )
    percentage = forms.DecimalField(
        required=False, max_digits=7, decimal_places=4, label="Share (%)"
    )
    shares = forms.DecimalField(required=False, max_digits=20, decimal_places=2, min_value=0)
    role = forms.CharField(
        required=False,
        max_length=200,
        help_text="Role (director, CEO), relationship (son, spouse) or label.",
    )
    start_date = PartialDateField()
    end_date = PartialDateField(help_text="")
    summary = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_percentage(self):
        value = self.cleaned_data["percentage"]
        if value is not None and not 0 <= value <= 100:
            raise ValidationError("An ownership share is between 0 and 100 %.")
        return value

    def clean(self):
        data = super().clean()
        check_range(self, "start_date", "end_date")
        if data.get("kind") != LinkKind.OWNERSHIP and (
            data.get("percentage") is not None or data.get("shares") is not None
        ):
            self.add_error("percentage", "Shares and percentages belong to ownership links.")
        return data


class ShipmentForm(forms.Form):
    date = DayField(help_text="YYYY-MM-DD")
    exporter = forms.UUIDField(required=False, widget=forms.HiddenInput)
    importer = forms.UUIDField(required=False, widget=forms.HiddenInput)
    hs_code = forms.CharField(max_length=13, label="HS code", help_text="2 to 10 digits: 8542")
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Goods description"
    )
    origin_country = forms.CharField(required=False, max_length=60)
    dispatch_country = forms.CharField(required=False, max_length=60)
    destination_country = forms.CharField(required=False, max_length=60)
    quantity = forms.DecimalField(required=False, max_digits=20, decimal_places=3)
    unit = forms.CharField(required=False, max_length=30, help_text="pcs, kg, l ...")
    value = forms.DecimalField(required=False, max_digits=20, decimal_places=2)
    currency = forms.CharField(required=False, max_length=10, help_text="ISO 4217: USD, EUR, KZT")
    declaration_number = forms.CharField(required=False, max_length=100)
    source = forms.CharField(required=False, max_length=500)

    def clean_hs_code(self):
        return clean_hs_code(self.cleaned_data["hs_code"])

    def _country(self, name):
        value = self.cleaned_data[name]
        return clean_country(value) if value else ""

    def clean_origin_country(self):
        return self._country("origin_country")

    def clean_dispatch_country(self):
        return self._country("dispatch_country")

    def clean_destination_country(self):
        return self._country("destination_country")

    def clean_currency(self):
        value = self.cleaned_data["currency"]
        return clean_currency(value) if value else ""

    def clean_quantity(self):
        value = self.cleaned_data["quantity"]
        if value is not None and value < 0:
            raise ValidationError("A quantity cannot be negative.")
        return value

    def clean(self):
        data = super().clean()
        if data.get("value") is not None:
            if data["value"] < 0:
                self.add_error("value", "A value cannot be negative.")
            if not data.get("currency") and "currency" not in self.errors:
                self.add_error("currency", "A value needs its currency.")
        if not data.get("exporter") and not data.get("importer"):
            self.add_error(None, "Choose at least the exporter or the importer.")
        if data.get("exporter") and data.get("exporter") == data.get("importer"):
            self.add_error("importer", "Exporter and importer are the same entity.")
        return data


class ShipmentFilterForm(forms.Form):
    date_from = DayField(required=False, label="From")
    date_to = DayField(required=False, label="To")
    hs = forms.CharField(required=False, max_length=10, label="HS prefix")
    country = forms.ChoiceField(required=False, choices=[("", "Any country")])
    party = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "Any country"), *country_names().items()]

    def clean_hs(self):
        value = self.cleaned_data["hs"].strip()
        if value and not value.isdigit():
            raise ValidationError("An HS prefix is digits only.")
        return value

    def clean(self):
        data = super().clean()
        check_range(self, "date_from", "date_to")
        return data


class EntityFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200)
    schema = forms.ChoiceField(required=False, choices=[("", "All kinds"), *Schema.choices])
    country = forms.ChoiceField(required=False, choices=[("", "Any country")])
    sort = forms.ChoiceField(
        required=False,
        choices=[
            ("name", "Name A–Z"),
            ("-name", "Name Z–A"),
            ("-updated", "Recently changed"),
            ("updated", "Least recently changed"),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "Any country"), *country_names().items()]
