from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from yingdan.core.choices import Action
from yingdan.core.forms import BusinessModelForm, style_widgets
from yingdan.core.models import Lookup
from yingdan.core.permissions import get_permissions
from yingdan.core.regions import PROVINCES
from yingdan.core.widgets import DatalistInput
from yingdan.org.models import Department

from .defaults import STATUS_CONVERTED
from .models import AssignmentRule, Lead


def lead_status_choices(include_converted: bool = False):
    qs = Lookup.objects.filter(kind="lead_status", is_active=True)
    return qs if include_converted else qs.exclude(code=STATUS_CONVERTED)


class LeadForm(BusinessModelForm):
    sections = [
        (_("Basic information"), ["name", "company", "title", "source", "status"]),
        (_("Contact information"), ["mobile", "phone", "email", "province", "city", "district"]),
        (_("Ownership"), ["assign_to_department", "owner", "collaborators"]),
        (_("Remarks"), ["remarks"]),
    ]

    assign_to_department = forms.ModelChoiceField(
        Department.objects.filter(is_active=True, assignment_rule__isnull=False).order_by("path"), required=False,
        label=_("Assign within team"),
        help_text=_("Pick a team to let its assignment rule choose the owner (round robin or fewest open records)."),
    )

    class Meta:
        model = Lead
        fields = [
            "name", "company", "title", "mobile", "phone", "email", "source", "status", "province", "city", "district",
            "owner", "collaborators", "remarks",
        ]
        widgets = {"remarks": forms.Textarea(attrs={"rows": 3}), "province": DatalistInput(PROVINCES)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        active_users = get_user_model().objects.filter(is_active=True).order_by("name")
        for name in ("owner", "collaborators"):
            if name in self.fields:
                self.fields[name].queryset = active_users
        may_transfer = self.user is not None and get_permissions(self.user).has("leads", Action.TRANSFER)
        if "status" in self.fields:
            self.fields["status"].queryset = lead_status_choices(include_converted=bool(self.instance.converted_at))
            if self.instance.converted_at:
                self.fields["status"].disabled = True
        if "owner" in self.fields:
            self.fields["owner"].help_text = _("Leave empty to own it yourself. Assigning to someone else needs the transfer permission.")
            if not may_transfer:
                self.fields["owner"].disabled = True
                if not self.instance.pk:
                    self.initial["owner"] = self.user.pk if self.user else None
        if self.instance.pk or not may_transfer:
            del self.fields["assign_to_department"]
        self.fields["name"].widget.attrs.update({"autofocus": True, "maxlength": 100})
        for name in ("mobile", "phone", "email", "company"):
            if name in self.fields:
                self.fields[name].widget.attrs["data-duplicate-check"] = name

    def clean_owner(self):
        owner = self.cleaned_data.get("owner")
        if owner is None and self.instance.pk:
            return self.instance.owner
        return owner

    def clean(self):
        cleaned = super().clean()
        team = cleaned.get("assign_to_department")
        owner = cleaned.get("owner")
        if team is not None and owner is not None and "owner" in self.fields and not self.fields["owner"].disabled:
            self.add_error("assign_to_department", _("Choose either an owner or a team to assign within, not both."))
        return cleaned


class LeadBulkEditForm(forms.Form):
    status = forms.ModelChoiceField(lead_status_choices(), required=False, label=_("Status"))
    source = forms.ModelChoiceField(Lookup.objects.filter(kind="lead_source", is_active=True), required=False, label=_("Source"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(k) for k in self.fields):
            raise forms.ValidationError(_("Choose at least one value to set."))
        return cleaned


class LeadAssignTeamForm(forms.Form):
    department = forms.ModelChoiceField(
        Department.objects.filter(is_active=True, assignment_rule__isnull=False).order_by("path"), label=_("Team"),
        help_text=_("The team's assignment rule picks an owner for each lead (round robin or fewest open records)."),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


class LeadConvertForm(forms.Form):
    """The convert page: a new customer (pre-filled from the lead) or an existing one, plus the contact."""

    existing_customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # customer
    name = forms.CharField(label=_("Customer name"), max_length=200, required=False)
    credit_code = forms.CharField(label=_("unified social credit code"), max_length=18, required=False)
    industry = forms.ModelChoiceField(Lookup.objects.filter(kind="industry", is_active=True), required=False, label=_("Industry"))
    source = forms.ModelChoiceField(Lookup.objects.filter(kind="customer_source", is_active=True), required=False, label=_("Customer source"))
    level = forms.ModelChoiceField(Lookup.objects.filter(kind="customer_level", is_active=True), required=False, label=_("Level"))
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    province = forms.CharField(label=_("Province"), max_length=30, required=False, widget=DatalistInput(PROVINCES))
    city = forms.CharField(label=_("City"), max_length=30, required=False)
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    # contact
    create_contact = forms.BooleanField(label=_("Create a contact from the lead"), required=False, initial=True)
    contact_name = forms.CharField(label=_("Contact name"), max_length=100, required=False)
    contact_title = forms.CharField(label=_("Job title"), max_length=100, required=False)
    contact_mobile = forms.CharField(label=_("Mobile"), max_length=20, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=30, required=False)
    contact_email = forms.EmailField(label=_("E-mail"), max_length=254, required=False)

    CUSTOMER_FIELDS = ("name", "credit_code", "industry", "source", "level", "phone", "province", "city", "address")
    CONTACT_FIELDS = ("contact_name", "contact_title", "contact_mobile", "contact_phone", "contact_email")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        style_widgets(self)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("existing_customer") and not (cleaned.get("name") or "").strip():
            self.add_error("name", _("Enter the customer's name, or choose an existing customer."))
        if cleaned.get("create_contact") and not (cleaned.get("contact_name") or "").strip():
            self.add_error("contact_name", _("Enter the contact's name."))
        return cleaned

    def customer_values(self) -> dict:
        values = {k: self.cleaned_data.get(k) for k in self.CUSTOMER_FIELDS}
        return {k: v for k, v in values.items() if v not in (None, "")}

    def contact_values(self) -> dict:
        values = {k.removeprefix("contact_"): self.cleaned_data.get(k) or "" for k in self.CONTACT_FIELDS}
        return values

    def customer_sections(self):
        return [self[n] for n in self.CUSTOMER_FIELDS]

    def contact_sections(self):
        return [self[n] for n in ("create_contact", *self.CONTACT_FIELDS)]


class AssignmentRuleForm(forms.ModelForm):
    class Meta:
        model = AssignmentRule
        fields = ["department", "method", "load_basis", "members"]
        widgets = {"method": forms.RadioSelect, "members": forms.SelectMultiple(attrs={"size": 8})}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["department"].queryset = Department.objects.filter(is_active=True).order_by("path")
        self.fields["members"].queryset = (get_user_model().objects.filter(is_active=True).select_related("department")
                                           .order_by("department__path", "name"))
        self.fields["members"].required = False
        self.fields["members"].label_from_instance = lambda u: f"{u} · {u.department}" if u.department_id else str(u)
        style_widgets(self)

    def clean(self):
        cleaned = super().clean()
        team, members = cleaned.get("department"), cleaned.get("members")
        if team is not None and members:
            tree = set(team.descendant_ids(include_self=True))
            outside = [str(m) for m in members if m.department_id not in tree]
            if outside:
                self.add_error("members", _("Not in this team: %(names)s") % {"names": "、".join(outside)})
        return cleaned

    def grouped_fields(self):
        return [(_("Assignment rule"), [self[n] for n in self.fields])]
