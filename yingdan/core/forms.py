"""Form base for business objects: custom-field form fields from their definitions, field permissions
(hidden fields removed, read-only fields disabled), Bootstrap widgets, sections."""

from __future__ import annotations

import decimal

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .choices import CustomFieldType as T
from .choices import FieldAccess
from .permissions import get_permissions


def custom_form_field(d, *, initial=None) -> forms.Field:
    common = {"label": d.display_label, "required": d.required, "help_text": d.help_text, "initial": initial}
    if d.type == T.LONGTEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if d.type in (T.TEXT, T.PHONE, T.URL):
        return forms.CharField(max_length=d.max_length or 255, **common)
    if d.type == T.EMAIL:
        return forms.CharField(widget=forms.EmailInput, **common)
    if d.type == T.INTEGER:
        return forms.IntegerField(**common)
    if d.type in (T.DECIMAL, T.MONEY):
        return forms.DecimalField(decimal_places=2 if d.type == T.MONEY else 4, max_digits=19, **common)
    if d.type == T.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common)
    if d.type == T.DATETIME:
        return forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"), **common)
    if d.type == T.BOOLEAN:
        common["required"] = False
        return forms.BooleanField(**common)
    choices = d.active_choices()
    if d.type == T.SELECT:
        if initial and str(initial) not in dict(choices):
            choices.append((str(initial), d.choice_label(initial)))
        return forms.ChoiceField(choices=[("", "---------")] + choices, **common)
    if d.type == T.MULTISELECT:
        for value in initial or []:
            if str(value) not in dict(choices):
                choices.append((str(value), d.choice_label(value)))
        return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)
    if d.type == T.USER:
        return forms.ModelChoiceField(queryset=get_user_model().objects.filter(is_active=True), **common)
    raise ValueError(d.type)  # pragma: no cover


def style_widgets(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, (forms.CheckboxInput,)):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, (forms.CheckboxSelectMultiple, forms.RadioSelect)):
            continue
        elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


class BusinessModelForm(forms.ModelForm):
    """ModelForm with custom fields and field permissions. `sections` groups fields for display:
    [(title, [field names])]; custom fields follow in their own sections."""

    sections: list = []

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        model = self._meta.model
        self.module = model.permission_module
        self.custom_field_defs = model.custom_field_definitions() if hasattr(model, "custom_field_definitions") else []
        stored = self.instance.custom_fields or {} if hasattr(self.instance, "custom_fields") else {}
        for d in self.custom_field_defs:
            initial = stored.get(d.name) if self.instance.pk else d.default
            self.fields[d.form_name] = custom_form_field(d, initial=initial)
        field_map = get_permissions(user).field_map(self.module) if user else {}
        for name, level in field_map.items():
            if name not in self.fields:
                continue
            if level == FieldAccess.HIDDEN:
                del self.fields[name]
            elif level == FieldAccess.READ:
                self.fields[name].disabled = True
        style_widgets(self)

    def custom_field_values(self) -> dict:
        """{key: value} for the custom fields present on the form (hidden ones are left untouched)."""
        out = {}
        for d in self.custom_field_defs:
            if d.form_name not in self.fields or self.fields[d.form_name].disabled:
                continue
            value = self.cleaned_data.get(d.form_name)
            if isinstance(value, decimal.Decimal):
                value = str(value)
            elif hasattr(value, "pk"):
                value = value.pk
            elif hasattr(value, "isoformat"):
                value = value.isoformat()
            out[d.name] = value
        return out

    def clean(self):
        cleaned = super().clean()
        if self.custom_field_defs and hasattr(self.instance, "validate_custom_fields"):
            present = {d.name: d for d in self.custom_field_defs if d.form_name in self.fields and not self.fields[d.form_name].disabled}
            values = {k: v for k, v in self.custom_field_values().items() if k in present and f"cf_{k}" not in self.errors}
            try:
                self.instance.validate_custom_fields(values, definitions=list(present.values()), partial=True)
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    if key in self.fields:
                        for message in messages:
                            self.add_error(key, message)
                    else:
                        self.add_error(None, messages)
        return cleaned

    def grouped_fields(self):
        """[(title, [bound fields])] following `sections`, then remaining model fields, then custom sections."""
        used = set()
        groups = []
        for title, names in self.sections:
            bound = [self[n] for n in names if n in self.fields]
            used.update(names)
            if bound:
                groups.append((title, bound))
        rest = [self[n] for n in self.fields if n not in used and not n.startswith("cf_")]
        if rest:
            groups.append((_("Other"), rest))
        by_section: dict[str, list] = {}
        for d in self.custom_field_defs:
            if d.form_name in self.fields:
                by_section.setdefault(d.section or str(_("Custom fields")), []).append(self[d.form_name])
        groups.extend(by_section.items())
        return groups




class OwnerChangeForm(forms.Form):
    """The form of every bulk "change owner" action: an active user (the service checks 'transfer')."""

    owner = forms.ModelChoiceField(get_user_model().objects.filter(is_active=True), label=_("New owner"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)
