from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from yingdan.core.forms import BusinessModelForm

from .models import LINKABLE_MODELS, Task
from .services import linkable_type


def target_type_choices():
    from django.apps import apps

    out = [("", "---------")]
    for label in LINKABLE_MODELS:
        try:
            out.append((label, apps.get_model(label)._meta.verbose_name))
        except LookupError:
            continue
    return out


class TaskForm(BusinessModelForm):
    sections = [
        (_("Task"), ["title", "description", "due_at", "priority", "status"]),
        (_("Linked record"), ["target_type", "target_id"]),
        (_("Assignment"), ["owner", "collaborators"]),
        (_("Repeat"), ["recurrence", "recurrence_interval", "recurrence_until"]),
    ]

    target_type = forms.ChoiceField(label=_("Linked record type"), required=False, choices=target_type_choices)
    due_at = forms.DateTimeField(label=_("Due"), required=False,
                                 widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    recurrence_until = forms.DateField(label=_("Repeat until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    class Meta:
        model = Task
        fields = ["title", "description", "due_at", "priority", "status", "target_id", "owner", "collaborators",
                  "recurrence", "recurrence_interval", "recurrence_until"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        active = get_user_model().objects.filter(is_active=True)
        for name in ("owner", "collaborators"):
            if name in self.fields:
                self.fields[name].queryset = active
        self.fields["target_id"].widget = forms.NumberInput(attrs={"class": "form-control"})
        ct = self.instance.target_type if self.instance.target_type_id else None
        if ct is not None and not self.is_bound:
            self.initial["target_type"] = f"{ct.app_label}.{ct.model}"

    def clean(self):
        data = super().clean()
        label = data.get("target_type") or ""
        self.instance.target_type = linkable_type(label) if label else None
        if label and self.instance.target_type is None:
            self.add_error("target_type", _("Tasks cannot be linked to this kind of record."))
        return data


class TaskReassignForm(forms.Form):
    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)

    owner = forms.ModelChoiceField(label=_("New assignee"), queryset=get_user_model().objects.filter(is_active=True))
