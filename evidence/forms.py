from django import forms

from .models import Watch


class DocumentUploadForm(forms.Form):
    file = forms.FileField(error_messages={"required": "Choose a file to upload."})
    title = forms.CharField(required=False, max_length=300, help_text="Defaults to the file name.")
    document_date = forms.DateField(
        required=False,
        label="Date of the document",
        help_text="YYYY-MM-DD, if the document is dated.",
    )


class SnapshotForm(forms.Form):
    url = forms.CharField(
        label="Page address",
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    entity = forms.UUIDField(required=False, widget=forms.HiddenInput)


class WatchForm(forms.Form):
    url = forms.CharField(
        label="Page address",
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    frequency = forms.ChoiceField(choices=Watch.Frequency.choices, initial=Watch.Frequency.DAILY)


class CitationForm(forms.Form):
    evidence = forms.CharField(
        help_text="A document or a snapshot of this case file.",
        error_messages={"required": "Choose the evidence to cite."},
    )
    page = forms.IntegerField(required=False, min_value=1)
    quote = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The passage that supports the claim.",
    )
    note = forms.CharField(required=False, max_length=500)

    def clean_evidence(self):
        value = self.cleaned_data["evidence"]
        kind, _, public_id = value.partition(":")
        if kind not in {"document", "snapshot"} or not public_id:
            raise forms.ValidationError("Choose a document or a snapshot.")
        return kind, public_id
