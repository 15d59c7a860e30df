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


class DaysFilterForm(forms.Form):
    """A filter's day range (From, To); an end before the start is an error on To."""

    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end is before the start.")
        return data


class ActivityFilterForm(DaysFilterForm):
    """Filters of the activity feed: who, what kind of object, which days."""

    person = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Person")
    kind = forms.ChoiceField(required=False, label="What")

    def __init__(self, *args, members=(), kinds=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", "Everyone")] + [
            (m.user_id, m.user.get_full_name() or m.user.get_username()) for m in members
        ]
        self.fields["kind"].choices = [("", "Everything"), *kinds]

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


# --- Timeline, claims, comments -------------------------------------------------------------

DATE_HELP = "2022, 2022-04 or 2022-04-07: as exactly as it is known."


class EventForm(forms.Form):
    """A written event; dates are checked by the service, which says what is wrong."""

    start = forms.CharField(label="Date", max_length=10, help_text=DATE_HELP)
    end = forms.CharField(
        label="Until", max_length=10, required=False, help_text="For a period; leave empty."
    )
    title = forms.CharField(label="What happened", max_length=500)
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Details"
    )
    entities = forms.TypedMultipleChoiceField(
        required=False,
        coerce=int,
        label="Entities involved",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    def __init__(self, *args, entity_choices=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["entities"].choices = [(e.pk, e.name) for e in entity_choices]


class TimelineFilterForm(DaysFilterForm):
    """Filters of the timeline: an entity, a kind of event, days, review status."""

    entity = forms.ChoiceField(required=False, label="Entity")
    kind = forms.ChoiceField(required=False, label="Kind")
    status = forms.ChoiceField(required=False, label="Review")

    def __init__(self, *args, entities=(), kinds=(), statuses=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # By public id (URLs never carry primary keys); the selector wants the key.
        self._entity_pks = {str(e.public_id): e.pk for e in entities}
        self.fields["entity"].choices = [("", "Any entity")] + [
            (str(e.public_id), e.name) for e in entities
        ]
        self.fields["kind"].choices = [("", "Every kind"), *kinds]
        self.fields["status"].choices = [("", "Any"), ("claims", "Every claim"), *statuses]

    def selector_kwargs(self) -> dict:
        """Filters for selectors.timeline.timeline_events; an invalid one is dropped."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "entity_id": self._entity_pks.get(data.get("entity") or ""),
            "kind": data.get("kind") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "status": data.get("status") or "",
        }


class ClaimForm(forms.Form):
    """Mark something as a claim, and perhaps ask for its review at once."""

    field = forms.CharField(required=False, widget=forms.HiddenInput)
    statement = forms.CharField(
        required=False,
        max_length=500,
        label="The claim, in words",
        help_text="Defaults to how the data reads.",
    )
    reviewer = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Ask for review by"
    )

    def __init__(self, *args, reviewers=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].choices = [("", "Nobody yet (a draft)"), *reviewers]


class ReviewRequestForm(forms.Form):
    reviewer = forms.TypedChoiceField(coerce=int, label="Ask for review by")

    def __init__(self, *args, reviewers=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].choices = list(reviewers)


class DisputeForm(forms.Form):
    comment = forms.CharField(
        label="What is wrong",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required. @username mentions a member of this case file.",
        error_messages={"required": "Say what is wrong: disputing needs a comment."},
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="@username mentions a member of this case file.",
        error_messages={"required": "Write a comment first."},
    )
