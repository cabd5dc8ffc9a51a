from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yingdan.core.forms import style_widgets

from .fields import DEFAULT_THRESHOLD, FIELD_MAP, FUZZY_KEYS, validate_conditions
from .models import DuplicateRule, MatchField

MATCH_CHOICES = [("", "—"), ("exact", gettext_lazy("Exact")), ("fuzzy", gettext_lazy("Fuzzy"))]


class DuplicateRuleForm(forms.ModelForm):
    """Conditions as one select per field (not used / exact / fuzzy) plus the fuzzy threshold."""

    threshold = forms.IntegerField(label=gettext_lazy("Fuzzy threshold (%)"), min_value=50, max_value=100, initial=DEFAULT_THRESHOLD,
                                   help_text=gettext_lazy("Similarity of the normalised company names, 50-100."))

    class Meta:
        model = DuplicateRule
        fields = ["name", "object_type", "target_type", "form_action", "api_action", "import_action", "is_active", "order"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        current = {c["field"]: c for c in (self.instance.conditions or [])}
        for key, label in MatchField.choices:
            choices = MATCH_CHOICES if key in FUZZY_KEYS else MATCH_CHOICES[:2]
            self.fields[f"f_{key}"] = forms.ChoiceField(label=label, choices=choices, required=False,
                                                      initial=current.get(key, {}).get("match", ""))
            if current.get(key, {}).get("threshold"):
                self.fields["threshold"].initial = current[key]["threshold"]
        style_widgets(self)

    def grouped_fields(self):
        main = ["name", "object_type", "target_type", "is_active", "order"]
        return [
            (_("Rule"), [self[n] for n in main]),
            (_("Fields (all must match)"), [self[f"f_{k}"] for k, _l in MatchField.choices] + [self["threshold"]]),
            (_("Action per entry point"), [self[n] for n in ("form_action", "api_action", "import_action")]),
        ]

    def clean(self):
        cleaned = super().clean()
        conditions = []
        for key, _l in MatchField.choices:
            match = cleaned.get(f"f_{key}")
            if match:
                item = {"field": key, "match": match}
                if match == "fuzzy":
                    item["threshold"] = cleaned.get("threshold") or DEFAULT_THRESHOLD
                conditions.append(item)
        obj, target = cleaned.get("object_type"), cleaned.get("target_type")
        if obj and target:
            try:
                self.instance.conditions = validate_conditions(obj, target, conditions)
            except ValidationError as exc:
                for messages in exc.message_dict.values():
                    self.add_error(None, messages)
        return cleaned

    def add_error(self, field, error):
        # The model's clean() names `conditions`, which the form shows as one select per field.
        if isinstance(error, ValidationError) and hasattr(error, "error_dict") and "conditions" in error.error_dict:
            errors = dict(error.error_dict)
            messages = errors.pop("conditions")
            if errors:
                super().add_error(field, ValidationError(errors))
            if not any(str(m.message) in self.non_field_errors() for m in messages):
                super().add_error(None, messages)
            return
        super().add_error(field, error)

    @staticmethod
    def pairs_help() -> list[tuple[str, str, list[str]]]:
        labels = dict(MatchField.choices)
        return [(o, t, [str(labels[k]) for k in keys]) for (o, t), keys in FIELD_MAP.items()]


class TransferRequestForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=gettext_lazy("Why should this record be yours? The owner's manager decides."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


class DecisionForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Note"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)
