"""Entity, link and shipment forms. Every bad value is a form error saying what is wrong."""

import re
from datetime import date

from django import forms
from django.core.exceptions import ValidationError

from .codes import clean_country, clean_currency, clean_hs_code, country_names
from .identifiers import InvalidIdentifier, Scheme, clean_identifier
from .models import PARTIAL_DATE_REGEX, LinkKind, Schema

PARTIAL_DATE = re.compile(PARTIAL_DATE_REGEX)


def clean_partial_date(value: str, label: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if not PARTIAL_DATE.match(value):
        raise ValidationError(f"{label}: use YYYY, YYYY-MM or YYYY-MM-DD (got “{value}”).")
    if len(value) == 10:
        try:
            date.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError(f"{label}: {value} is not a real date.") from exc
    return value


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


class CountriesField(forms.CharField):
    """Comma-separated ISO codes or English names -> list of upper-case ISO codes."""

    def clean(self, value):
        value = super().clean(value)
        codes = [clean_country(part) for part in re.split(r"[,;]", value or "") if part.strip()]
        return list(dict.fromkeys(codes))


class EntityForm(forms.Form):
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
    start_date = forms.CharField(
        required=False, label="Incorporated / born", help_text="YYYY, YYYY-MM or YYYY-MM-DD"
    )
    end_date = forms.CharField(required=False, label="Dissolved / died")
    identifiers = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line as scheme: value, e.g. kz_bin: 940140000385. Schemes: "
        + ", ".join(Scheme.values)
        + ".",
    )
    addresses = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="One per line."
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    source = forms.CharField(
        required=False,
        max_length=500,
        help_text="Where this comes from: a register, a document, a URL.",
    )

    def clean_aliases(self):
        return _lines(self.cleaned_data["aliases"])

    def clean_addresses(self):
        return _lines(self.cleaned_data["addresses"])

    def clean_start_date(self):
        return clean_partial_date(self.cleaned_data["start_date"], "Start date")

    def clean_end_date(self):
        return clean_partial_date(self.cleaned_data["end_date"], "End date")

    def clean_identifiers(self):
        result, errors = [], []
        for line in _lines(self.cleaned_data["identifiers"]):
            scheme, sep, value = line.partition(":")
            if not sep:
                errors.append(f"“{line}”: write scheme: value, e.g. ru_inn: 7707083893.")
                continue
            try:
                result.append((scheme.strip(), clean_identifier(scheme.strip().lower(), value)))
            except InvalidIdentifier as exc:
                errors.append(str(exc))
        if errors:
            raise ValidationError(errors)
        return [(s.lower(), v) for s, v in result]

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date is before the start date.")
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
            "identifiers": "\n".join(f"{i.scheme}: {i.value}" for i in entity.identifiers.all()),
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
    start_date = forms.CharField(required=False, help_text="YYYY, YYYY-MM or YYYY-MM-DD")
    end_date = forms.CharField(required=False)
    summary = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_percentage(self):
        value = self.cleaned_data["percentage"]
        if value is not None and not 0 <= value <= 100:
            raise ValidationError("An ownership share is between 0 and 100 %.")
        return value

    def clean_start_date(self):
        return clean_partial_date(self.cleaned_data["start_date"], "Start date")

    def clean_end_date(self):
        return clean_partial_date(self.cleaned_data["end_date"], "End date")

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date is before the start date.")
        if data.get("kind") != LinkKind.OWNERSHIP and (
            data.get("percentage") is not None or data.get("shares") is not None
        ):
            self.add_error("percentage", "Shares and percentages belong to ownership links.")
        return data


class ShipmentForm(forms.Form):
    date = forms.DateField(help_text="YYYY-MM-DD")
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
    date_from = forms.DateField(required=False, label="From")
    date_to = forms.DateField(required=False, label="To")
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
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", "The end of the range is before its start.")
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
