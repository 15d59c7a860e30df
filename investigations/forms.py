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
