"""Admin pages: custom fields, admin-editable lists (lookups) and the change log (read-only)."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import changelog, registry, services
from ..choices import Action, ChangeAction, ChangeSource
from ..choices import CustomFieldType as T
from ..filtersets import BaseFilterSet
from ..forms import style_widgets
from ..models import CustomField, Lookup, ObjectChange
from ..tables import Column, Table
from . import generic


# -- custom fields -------------------------------------------------------------------------------------
def parse_choices(text: str, previous: list | None = None) -> list[dict]:
    """Lines `value | 中文标签 | English label | active(1/0)`; the value may be omitted (then the label is
    the value). Options that existed before but are missing are kept, deactivated."""
    out, seen = [], set()
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 1:
            parts = [parts[0], parts[0]]
        value, label = parts[0], parts[1] or parts[0]
        label_en = parts[2] if len(parts) > 2 else ""
        active = not (len(parts) > 3 and parts[3] in {"0", "false", "no", "否"})
        out.append({"value": value, "label": label, "label_en": label_en, "active": active})
        seen.add(value)
    for old in previous or []:
        if str(old.get("value")) not in seen:
            out.append({**old, "active": False})
    return out


def format_choices(choices: list) -> str:
    return "\n".join(
        " | ".join([str(c.get("value", "")), c.get("label", ""), c.get("label_en", ""), "1" if c.get("active", True) else "0"])
        for c in choices or []
    )


class CustomFieldForm(forms.ModelForm):
    choices_text = forms.CharField(
        label=gettext_lazy("Options"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("One per line: value | 中文标签 | English label | 1 (active) or 0 (retired). Options cannot be removed, only retired."),
    )
    default_text = forms.CharField(label=gettext_lazy("Default value"), required=False)

    class Meta:
        model = CustomField
        fields = ["object_type", "name", "label", "label_en", "type", "required", "unique", "min_value", "max_value",
                  "max_length", "regex", "help_text", "section", "order", "show_in_list", "filterable"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object_type"] = forms.ChoiceField(
            label=gettext_lazy("Object"), choices=[(k, m._meta.verbose_name) for k, m in registry.custom_field_models.items()]
        )
        if self.instance.pk:
            for name in ("object_type", "name", "type"):
                self.fields[name].disabled = True
            self.fields["choices_text"].initial = format_choices(self.instance.choices)
            self.fields["default_text"].initial = "" if self.instance.default is None else (
                ",".join(self.instance.default) if isinstance(self.instance.default, list) else str(self.instance.default)
            )
        style_widgets(self)

    def clean(self):
        cleaned = super().clean()
        self.instance.choices = parse_choices(cleaned.get("choices_text", ""), self.instance.choices if self.instance.pk else None)
        default = cleaned.get("default_text", "")
        ftype = cleaned.get("type") or self.instance.type
        if default in ("", None):
            self.instance.default = None
        elif ftype == T.MULTISELECT:
            self.instance.default = [v.strip() for v in default.split(",") if v.strip()]
        else:
            self.instance.default = default
        return cleaned

    def grouped_fields(self):
        return [(_("Field"), [self[n] for n in self.fields])]

    ALIASES = {"choices": "choices_text", "default": "default_text"}

    def add_error(self, field, error):
        if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            error = ValidationError({self.ALIASES.get(k, k): v for k, v in error.error_dict.items()})
        elif isinstance(error, dict):
            error = {self.ALIASES.get(k, k): v for k, v in error.items()}
        super().add_error(self.ALIASES.get(field, field), error)


class CustomFieldTable(Table):
    object_type = Column(gettext_lazy("Object"), render=lambda d: registry.custom_field_models[d.object_type]._meta.verbose_name if d.object_type in registry.custom_field_models else d.object_type, order_by="object_type")

    class Meta:
        model = CustomField
        fields = ["label", "name", "object_type", "type", "required", "unique", "section", "order", "show_in_list", "is_active"]
        default_columns = fields
        linkify = ["label"]


class CustomFieldFilterSet(BaseFilterSet):
    object_type = django_filters.ChoiceFilter(choices=lambda: [(k, m._meta.verbose_name) for k, m in registry.custom_field_models.items()], label=gettext_lazy("Object"))
    type = django_filters.ChoiceFilter(choices=T.choices, label=gettext_lazy("Type"))
    is_active = django_filters.BooleanFilter(label=gettext_lazy("Active"))

    class Meta:
        model = CustomField
        fields = ["q", "object_type", "type", "is_active"]

    def search(self, queryset, name, value):
        return queryset.filter(label__icontains=value) | queryset.filter(name__icontains=value)


class CustomFieldListView(generic.ObjectListView):
    model = CustomField
    queryset = CustomField.objects.all()
    table = CustomFieldTable
    filterset = CustomFieldFilterSet
    add_url_name = "core:customfield_add"
    create_action = Action.EDIT  # the settings module grants view/edit only
    bulk_actions = [("core:customfield_bulk_deactivate", gettext_lazy("Deactivate"), Action.EDIT)]


class CustomFieldEditView(generic.ObjectEditView):
    model = CustomField
    form_class = CustomFieldForm
    success_url_name = "core:customfield_list"
    create_action = Action.EDIT

    def save(self, form):
        return services.save_custom_field(self.request.user, form.instance)


class CustomFieldBulkDeactivateView(generic.BulkActionView):
    model = CustomField
    action = Action.EDIT
    title = gettext_lazy("Deactivate custom fields")
    success_url_name = "core:customfield_list"

    def apply(self, ids, form):
        count = 0
        for definition in CustomField.objects.filter(pk__in=ids):
            services.set_custom_field_active(self.request.user, definition, False)
            count += 1
        return count


# -- lookups -------------------------------------------------------------------------------------------
class LookupForm(forms.ModelForm):
    class Meta:
        model = Lookup
        fields = ["kind", "name", "name_en", "code", "color", "order", "is_default", "is_active"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"] = forms.ChoiceField(label=gettext_lazy("List"), choices=list(registry.lookup_kinds.items()))
        if self.instance.pk:
            self.fields["kind"].disabled = True
        self.fields["color"].widget = forms.TextInput(attrs={"type": "color"})
        style_widgets(self)
        self.fields["color"].widget.attrs["class"] = "form-control form-control-color"

    def grouped_fields(self):
        return [(_("List entry"), [self[n] for n in self.fields])]


class LookupTable(Table):
    kind = Column(gettext_lazy("List"), render=lambda lk: registry.lookup_kinds.get(lk.kind, lk.kind), order_by="kind")

    class Meta:
        model = Lookup
        fields = ["name", "name_en", "kind", "code", "order", "is_default", "is_active"]
        default_columns = fields
        linkify = ["name"]


class LookupFilterSet(BaseFilterSet):
    kind = django_filters.ChoiceFilter(choices=lambda: list(registry.lookup_kinds.items()), label=gettext_lazy("List"))
    is_active = django_filters.BooleanFilter(label=gettext_lazy("Active"))

    class Meta:
        model = Lookup
        fields = ["q", "kind", "is_active"]

    def search(self, queryset, name, value):
        return queryset.filter(name__icontains=value)


class LookupListView(generic.ObjectListView):
    model = Lookup
    queryset = Lookup.objects.all()
    table = LookupTable
    filterset = LookupFilterSet
    add_url_name = "core:lookup_add"
    create_action = Action.EDIT


class LookupEditView(generic.ObjectEditView):
    model = Lookup
    form_class = LookupForm
    success_url_name = "core:lookup_list"
    create_action = Action.EDIT

    def save(self, form):
        return services.save_lookup(self.request.user, form.instance)

    def get_success_url(self, obj):
        return f"{reverse(self.success_url_name)}?kind={obj.kind}"


# -- change log ------------------------------------------------------------------------------------------
def change_summary(change) -> str:
    """The first changed fields by their (translated) names."""
    model = change.content_type.model_class()
    labels = []
    for key in list(change.changes or {})[:6]:
        field = changelog._field(model, key) if model is not None else None
        labels.append(str(field.verbose_name) if field is not None else key)
    return "、".join(labels)


class ObjectChangeTable(Table):
    object_type = Column(gettext_lazy("Object type"), render=lambda c: c.content_type.model_class()._meta.verbose_name if c.content_type.model_class() else c.content_type.model, sortable=False)
    object_link = Column(gettext_lazy("Object"), render=lambda c: c.object_repr, sortable=False)
    summary = Column(gettext_lazy("Fields"), render=lambda c: change_summary(c), sortable=False)

    class Meta:
        model = ObjectChange
        fields = ["time", "user_name", "source", "action", "object_type", "object_link", "object_id", "summary", "request_id"]
        default_columns = ["time", "user_name", "source", "action", "object_type", "object_link", "summary"]
        linkify = ["time"]


class ObjectChangeFilterSet(BaseFilterSet):
    content_type = django_filters.ModelChoiceFilter(
        queryset=ContentType.objects.filter(app_label__in=["customers", "org", "core"]), label=gettext_lazy("Object type")
    )
    object_id = django_filters.NumberFilter(label=gettext_lazy("Object id"))
    user_name = django_filters.CharFilter(lookup_expr="iexact", label=gettext_lazy("User"))
    source = django_filters.ChoiceFilter(choices=ChangeSource.choices, label=gettext_lazy("Via"))
    action = django_filters.ChoiceFilter(choices=ChangeAction.choices, label=gettext_lazy("Action"))
    request_id = django_filters.CharFilter(label=gettext_lazy("Request id"))
    time_after = django_filters.DateFilter(field_name="time", lookup_expr="date__gte", label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"}))
    time_before = django_filters.DateFilter(field_name="time", lookup_expr="date__lte", label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}))

    class Meta:
        model = ObjectChange
        fields = ["q", "content_type", "object_id", "user_name", "source", "action", "request_id"]

    def search(self, queryset, name, value):
        return queryset.filter(object_repr__icontains=value)


class ObjectChangeListView(generic.ObjectListView):
    model = ObjectChange
    queryset = ObjectChange.objects.select_related("content_type")
    table = ObjectChangeTable
    filterset = ObjectChangeFilterSet


class ObjectChangeDetailView(generic.ObjectPermissionMixin, generic.View):
    model = ObjectChange

    def get(self, request, pk):
        change = self.get_object()
        described = changelog.describe([change])[0]
        return render(request, "core/objectchange_detail.html", {**self.model_context(), "object": change, "item": described})


