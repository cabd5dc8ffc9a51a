import re

from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from yingdan.core.choices import Action
from yingdan.core.forms import BusinessModelForm, style_widgets
from yingdan.core.models import Lookup
from yingdan.core.permissions import get_permissions
from yingdan.core.regions import PROVINCES
from yingdan.core.widgets import AutocompleteSelect, DatalistInput

from .models import Contact, Customer


class TagsField(forms.CharField):
    """Free-form tags typed as “重点, 华东” (comma, 、 or ，); new names become new tags."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("Separate tags with commas."))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return ", ".join(str(getattr(v, "name", v)) for v in value)
        return value

    def clean(self, value):
        value = super().clean(value) or ""
        names = []
        for part in re.split(r"[,，、;；]", value):
            part = part.strip()
            if len(part) > 50:
                raise forms.ValidationError(_("A tag has at most 50 characters."))
            if part and part not in names:
                names.append(part)
        if len(names) > 20:
            raise forms.ValidationError(_("At most 20 tags."))
        return names


class CustomerForm(BusinessModelForm):
    sections = [
        (_("Basic information"), ["name", "short_name", "credit_code", "industry", "source", "level", "status", "tags"]),
        (_("Contact information"), ["phone", "website", "province", "city", "district", "address"]),
        (_("Ownership"), ["owner", "collaborators"]),
        (_("Remarks"), ["remarks"]),
    ]

    tags = TagsField(label=_("Tags"))
    website = forms.URLField(label=_("website"), max_length=255, required=False, assume_scheme="https")

    class Meta:
        model = Customer
        fields = [
            "name", "short_name", "credit_code", "industry", "source", "level", "status", "province", "city",
            "district", "address", "website", "phone", "tags", "owner", "collaborators", "remarks",
        ]
        widgets = {"remarks": forms.Textarea(attrs={"rows": 3}), "province": DatalistInput(PROVINCES)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        active_users = get_user_model().objects.filter(is_active=True).order_by("name")
        for name in ("owner", "collaborators"):
            if name in self.fields:
                self.fields[name].queryset = active_users
        if "owner" in self.fields:
            self.fields["owner"].help_text = _("Leave empty to own it yourself. Assigning to someone else needs the transfer permission.")
            if self.user is not None and not get_permissions(self.user).has("customers", Action.TRANSFER):
                self.fields["owner"].disabled = True
                if not self.instance.pk:
                    self.initial["owner"] = self.user.pk
        if "tags" in self.fields and self.instance.pk:
            self.initial["tags"] = [t.name for t in self.instance.tags.all()]
        self.fields["name"].widget.attrs.update({"autofocus": True, "maxlength": 200})

    def clean_owner(self):
        owner = self.cleaned_data.get("owner")
        if owner is None and self.instance.pk:
            return self.instance.owner  # empty means unchanged; returning to a pool is its own action
        return owner


class ContactForm(BusinessModelForm):
    sections = [
        (_("Basic information"), ["name", "customer", "title", "is_primary", "birthday"]),
        (_("Contact information"), ["mobile", "phone", "email", "wechat"]),
        (_("Remarks"), ["remarks"]),
    ]

    class Meta:
        model = Contact
        fields = ["name", "customer", "title", "mobile", "phone", "email", "wechat", "is_primary", "birthday", "remarks"]
        widgets = {"remarks": forms.Textarea(attrs={"rows": 3}), "birthday": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "customer" in self.fields and self.user is not None:
            self.fields["customer"].queryset = Customer.objects.visible_to(self.user).only("id", "name")
            self.fields["customer"].widget = AutocompleteSelect(reverse_lazy("customers:customer_autocomplete"))
            self.fields["customer"].widget.choices = self.fields["customer"].choices


class CustomerBulkEditForm(forms.Form):
    level = forms.ModelChoiceField(Lookup.objects.filter(kind="customer_level", is_active=True), required=False, label=_("Level"))
    status = forms.ModelChoiceField(Lookup.objects.filter(kind="customer_status", is_active=True), required=False, label=_("Status"))
    industry = forms.ModelChoiceField(Lookup.objects.filter(kind="industry", is_active=True), required=False, label=_("Industry"))
    source = forms.ModelChoiceField(Lookup.objects.filter(kind="customer_source", is_active=True), required=False, label=_("Source"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(k) for k in self.fields):
            raise forms.ValidationError(_("Choose at least one value to set."))
        return cleaned
