from django import forms

from .models import Investigation, Role


class InvestigationForm(forms.Form):
    title = forms.CharField(max_length=200)
    summary = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What the case file is about, for the members. Never shown outside it.",
    )


class InvestigationSettingsForm(InvestigationForm):
    status = forms.ChoiceField(choices=Investigation.Status.choices)


class AddMemberForm(forms.Form):
    user = forms.CharField(
        label="Username or e-mail",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.REPORTER)


class ChangeRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class ActivityFilterForm(forms.Form):
    """Filters of the activity feed: who, what kind of object, which days."""

    person = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Person")
    kind = forms.ChoiceField(required=False, label="What")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, members=(), kinds=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", "Everyone")] + [
            (m.user_id, m.user.get_full_name() or m.user.get_username()) for m in members
        ]
        self.fields["kind"].choices = [("", "Everything"), *kinds]

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end is before the start.")
        return data

    def selector_kwargs(self) -> dict:
        """Filters for selectors.activity_list; an invalid filter is dropped, not an error page."""
        self.is_valid()  # cleaned_data keeps the valid filters only
        data = getattr(self, "cleaned_data", {})
        return {
            "actor_id": data.get("person"),
            "kind": data.get("kind") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }
