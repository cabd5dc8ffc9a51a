from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from yingdan.core.choices import Action
from yingdan.core.forms import BusinessModelForm, custom_form_field, style_widgets
from yingdan.core.models import Lookup
from yingdan.core.permissions import get_permissions
from yingdan.core.widgets import AutocompleteSelect
from yingdan.customers.models import Contact, Customer
from yingdan.org.models import Department

from . import services
from .models import ChecklistItem, Competitor, LossReason, Opportunity, Pipeline, Stage, StageKind

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def stage_label(stage: Stage) -> str:
    return f"{stage.pipeline.name} / {stage.name}"


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return stage_label(obj)


class OpportunityForm(BusinessModelForm):
    sections = [
        (_("Basic information"), ["name", "customer", "contacts", "pipeline", "stage", "source"]),
        (_("Value"), ["amount", "currency", "probability", "expected_close"]),
        (_("Ownership"), ["owner", "collaborators"]),
        (_("Details"), ["next_step", "description"]),
    ]

    stage = StageChoiceField(Stage.objects.none(), label=_("Stage"), required=False,
                             help_text=_("Empty: the first stage of the pipeline."))

    class Meta:
        model = Opportunity
        fields = ["name", "customer", "contacts", "pipeline", "stage", "source", "amount", "currency", "probability", "expected_close",
                  "owner", "collaborators", "next_step", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3}), "expected_close": DATE_WIDGET}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(is_active=True).order_by("name")
        for name in ("owner", "collaborators"):
            if name in self.fields:
                self.fields[name].queryset = users
        if "owner" in self.fields:
            self.fields["owner"].required = False
            self.fields["owner"].help_text = _("Leave empty to own it yourself. Assigning to someone else needs the transfer permission.")
            if self.user is not None and not get_permissions(self.user).has("opportunities", Action.TRANSFER):
                self.fields["owner"].disabled = True
                if not self.instance.pk:
                    self.initial["owner"] = self.user.pk
        if "customer" in self.fields and self.user is not None:
            self.fields["customer"].queryset = Customer.objects.visible_to(self.user).only("id", "name")
            self.fields["customer"].widget = AutocompleteSelect(reverse_lazy("customers:customer_autocomplete"))
            self.fields["customer"].widget.choices = self.fields["customer"].choices
        if "contacts" in self.fields:
            customer_id = self.data.get("customer") if self.is_bound else (self.instance.customer_id or self.initial.get("customer"))
            try:
                customer_id = int(customer_id) if customer_id else None
            except (TypeError, ValueError):
                customer_id = None
            self.fields["contacts"].queryset = Contact.objects.filter(customer_id=customer_id) if customer_id else Contact.objects.none()
            self.fields["contacts"].help_text = _("Contacts of the chosen customer (save once to pick them after choosing a new customer).")
        self.fields["pipeline"].queryset = Pipeline.objects.filter(is_active=True)
        self.fields["pipeline"].required = False
        self.fields["pipeline"].help_text = _("Empty: the default pipeline.")
        self.fields["stage"].queryset = Stage.objects.filter(is_active=True, kind=StageKind.OPEN, pipeline__is_active=True).select_related("pipeline")
        self.fields["probability"].required = False
        self.fields["probability"].help_text = _("Empty: the stage's default probability.")
        if "source" in self.fields:
            self.fields["source"].queryset = Lookup.objects.filter(kind="opportunity_source", is_active=True)
        self.fields["amount"].widget.attrs.update({"min": 0, "step": "0.01"})
        if self.instance.pk:
            for name in ("pipeline", "stage"):
                self.fields[name].disabled = True
            self.fields["stage"].help_text = _("Move the opportunity on its page or on the kanban to change the stage.")
            self.fields["stage"].queryset = Stage.objects.filter(pk=self.instance.stage_id).select_related("pipeline")
        self.fields["name"].widget.attrs.update({"autofocus": True, "maxlength": 200})

    def clean_owner(self):
        owner = self.cleaned_data.get("owner")
        if owner is None and self.instance.pk:
            return self.instance.owner
        return owner

    def clean(self):
        cleaned = super().clean()
        pipeline, stage = cleaned.get("pipeline"), cleaned.get("stage")
        if not self.instance.pk and pipeline and stage and stage.pipeline_id != pipeline.pk:
            self.add_error("stage", _("This stage belongs to another pipeline."))
        if cleaned.get("probability") is None and "probability" not in self.errors:
            if self.instance.pk:
                cleaned["probability"] = self.instance.probability
            else:
                stage = stage or services.first_open_stage(pipeline or services.default_pipeline(self.user))
                cleaned["probability"] = stage.probability if stage else 0
        probe = Opportunity(amount=cleaned.get("amount") or 0, expected_close=cleaned.get("expected_close"))
        for key, messages in services.check_values(probe).items():
            if key in self.fields and key not in self.errors:
                self.add_error(key, messages)
        return cleaned


class OpportunityBulkMoveForm(forms.Form):
    stage = StageChoiceField(Stage.objects.filter(is_active=True, pipeline__is_active=True).select_related("pipeline"), label=_("Move to stage"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


class GateForm(forms.Form):
    """What a refused move still needs, to fill in place: the missing fields, the checklist steps of the
    current stage, and (when losing) the loss reason. Built from the gate's error keys."""

    def __init__(self, *args, opportunity: Opportunity, to_stage: Stage, missing: dict, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.opportunity, self.to_stage, self.missing = opportunity, to_stage, missing
        self.field_errors = {}
        self.checklist_rows = []
        model_fields = forms.fields_for_model(Opportunity, fields=[k for k in missing if k in services.GATE_FIELDS],
                                              widgets={"expected_close": DATE_WIDGET, "description": forms.Textarea(attrs={"rows": 2})})
        definitions = {d.form_name: d for d in Opportunity.custom_field_definitions()}
        for key, messages in missing.items():
            if key in model_fields:
                field = model_fields[key]
                field.required = True
                if key == "contacts":
                    field.queryset = Contact.objects.filter(customer_id=opportunity.customer_id)
                if key == "source":
                    field.queryset = Lookup.objects.filter(kind="opportunity_source", is_active=True)
                if key == "competitor":
                    field.queryset = Competitor.objects.filter(is_active=True)
                field.initial = self._current(key)
                self.fields[key] = field
            elif key in definitions:
                self.fields[key] = custom_form_field(definitions[key], initial=(opportunity.custom_fields or {}).get(key[3:]))
                self.fields[key].required = True
            elif key.startswith("checklist_"):
                item_id = key.split("_", 1)[1]
                item = ChecklistItem.objects.filter(pk=item_id, stage_id=opportunity.stage_id).first() if item_id.isdigit() else None
                if item is None:
                    continue
                self.fields[f"{key}_done"] = forms.BooleanField(label=item.text, required=True, initial=True)
                if item.needs_note:
                    self.fields[f"{key}_note"] = forms.CharField(label=_("Note"), max_length=500, required=True)
                if item.needs_attachment:
                    self.fields[f"{key}_file"] = forms.FileField(label=_("Attachment"), required=True)
                self.checklist_rows.append((item, key))
            if key not in self.fields and not key.startswith("checklist_"):
                self.field_errors[key] = messages
        if to_stage.kind == StageKind.LOST:
            self.fields["loss_reason"] = forms.ModelChoiceField(
                LossReason.objects.filter(is_active=True).select_related("parent").order_by("parent__order", "parent_id", "order", "id"),
                label=_("Loss reason"))
            self.fields["competitor"] = forms.ModelChoiceField(Competitor.objects.filter(is_active=True), label=_("Lost to competitor"), required=False)
            self.fields["loss_note"] = forms.CharField(label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))
        style_widgets(self)

    def _current(self, key):
        value = getattr(self.opportunity, key if key != "contacts" else "pk")
        if key == "contacts":
            return list(self.opportunity.contacts.values_list("pk", flat=True))
        return value.pk if hasattr(value, "pk") else value

    def move_kwargs(self, actor) -> dict:
        """The service arguments from the cleaned form (uploads stored as attachments first)."""
        values, checklist = {}, {}
        for name, value in self.cleaned_data.items():
            if name in ("loss_reason", "competitor", "loss_note") and self.to_stage.kind == StageKind.LOST:
                continue
            if name.startswith("checklist_"):
                continue
            if name.startswith("cf_"):
                if hasattr(value, "isoformat"):
                    value = value.isoformat()
                elif hasattr(value, "pk"):
                    value = value.pk
                elif value is not None and not isinstance(value, (str, int, bool, list)):
                    value = str(value)
            values[name] = value
        for item, key in self.checklist_rows:
            entry = {"done": True, "note": self.cleaned_data.get(f"{key}_note", "")}
            upload = self.cleaned_data.get(f"{key}_file")
            if upload:
                entry["attachment"] = services.attach_file(actor, self.opportunity, upload)
            checklist[item.pk] = entry
        kwargs = {"values": values, "checklist": checklist}
        if self.to_stage.kind == StageKind.LOST:
            kwargs.update(loss_reason=self.cleaned_data.get("loss_reason"), competitor=self.cleaned_data.get("competitor"),
                          loss_note=self.cleaned_data.get("loss_note") or "")
        return kwargs


class ChecklistTickForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    attachment = forms.FileField(label=_("Attachment"), required=False)


# -- settings ------------------------------------------------------------------------------------------
class PipelineForm(forms.ModelForm):
    class Meta:
        model = Pipeline
        fields = ["name", "description", "departments", "order", "is_default", "is_active"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["departments"].queryset = Department.objects.order_by("path")
        style_widgets(self)

    def grouped_fields(self):
        return [(_("Pipeline"), [self[n] for n in self.fields])]


class StageForm(forms.ModelForm):
    required_fields = forms.MultipleChoiceField(label=_("Fields required to enter"), required=False, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Stage
        fields = ["name", "color", "kind", "probability", "forecast_category", "time_limit_days", "required_fields", "is_active"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["required_fields"].choices = services.requirable_fields()
        self.fields["color"].widget = forms.TextInput(attrs={"type": "color"})
        style_widgets(self)
        self.fields["color"].widget.attrs["class"] = "form-control form-control-color"

    def grouped_fields(self):
        return [(_("Stage"), [self[n] for n in self.fields])]


class ChecklistItemForm(forms.ModelForm):
    class Meta:
        model = ChecklistItem
        fields = ["text", "required", "needs_note", "needs_attachment", "order", "is_active"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)

    def grouped_fields(self):
        return [(_("Checklist item"), [self[n] for n in self.fields])]


class StageDeleteForm(forms.Form):
    move_to = forms.ModelChoiceField(Stage.objects.none(), label=_("Move its opportunities to"), required=False)

    def __init__(self, *args, stage: Stage, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["move_to"].queryset = Stage.objects.filter(pipeline=stage.pipeline, is_active=True, kind=stage.kind).exclude(pk=stage.pk)
        style_widgets(self)


class LossReasonForm(forms.ModelForm):
    class Meta:
        model = LossReason
        fields = ["parent", "name", "order", "is_active"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        parents = LossReason.objects.filter(parent__isnull=True)
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents
        self.fields["parent"].help_text = _("Empty for a top-level reason.")
        style_widgets(self)

    def grouped_fields(self):
        return [(_("Loss reason"), [self[n] for n in self.fields])]


class CompetitorForm(forms.ModelForm):
    class Meta:
        model = Competitor
        fields = ["name", "website", "is_active"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["website"] = forms.URLField(label=_("website"), required=False, assume_scheme="https")
        style_widgets(self)

    def grouped_fields(self):
        return [(_("Competitor"), [self[n] for n in self.fields])]
