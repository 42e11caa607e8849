"""The editor's form and the search form; the services check the same rules again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kesu.knowledge.models import Kind, Language, Status
from kesu.knowledge.services import MAX_BODY, MAX_NOTE, MAX_TITLE
from kesu.triage.selectors import taxonomy


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=MAX_TITLE)
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    categories = forms.MultipleChoiceField(
        label=_("Categories"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=_("The complaints this article helps with; hold Ctrl or ⌘ to choose several."),
    )
    body = forms.CharField(
        label=_("Text"),
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 18}),
        help_text=_("Plain text; line breaks are kept."),
    )
    change_note = forms.CharField(label=_("What changed"), max_length=MAX_NOTE, required=False)
    # The version the editor started from (revise_article refuses a save over a newer one).
    base_version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The taxonomy's active categories, grouped by nature, read when the form is made.
        field = self.fields["categories"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = taxonomy().category_choices()


STATUS_FILTERS = [
    ("", _("Published")),
    (Status.ARCHIVED.value, _("Archived")),
    (Status.DRAFT.value, _("Drafts")),
    ("all", _("Any status")),
]


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Keyword"), required=False, max_length=200)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *Kind.choices]
    )
    category = forms.ChoiceField(label=_("Category"), required=False)
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("All languages")), *Language.choices]
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_FILTERS)

    def __init__(self, *args: Any, can_write: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.ChoiceField)
        category.choices = [("", _("All categories")), *taxonomy().category_choices()]
        if not can_write:
            # Drafts are the editors' own: others would find nothing there.
            status = self.fields["status"]
            assert isinstance(status, forms.ChoiceField)
            status.choices = [c for c in STATUS_FILTERS if c[0] != Status.DRAFT]
