from django import forms
from django.urls import NoReverseMatch, reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yingdan.core.forms import BusinessModelForm, style_widgets
from yingdan.core.models import Lookup
from yingdan.core.widgets import AutocompleteSelect
from yingdan.customers.models import Contact, Customer
from yingdan.leads.models import Lead

from .models import FollowUp, FollowUpComment


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is validated by core.files in the service (all or nothing)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _type_queryset():
    return Lookup.objects.filter(kind="followup_type", is_active=True).order_by("order", "id")


def _parent_id(form, name):
    value = form.data.get(name) if form.is_bound else None
    if value in (None, ""):
        value = form.initial.get(name) or getattr(form.instance, f"{name}_id", None)
    try:
        return int(getattr(value, "pk", value)) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class FollowUpFieldsMixin:
    def setup_fields(self, user, *, parent_widgets: bool = True):
        """`parent_widgets=False`: the customer/lead fields keep their widget (the quick form hides them), so
        no autocomplete widget is built for them."""
        # One read of the (short) type list: the select's options and the default come from it, the queryset
        # only validates a submitted value.
        field = self.fields["type"]
        field.queryset = _type_queryset()
        types = list(field.queryset)
        field.widget.choices = ([("", field.empty_label)] if field.empty_label is not None else []) + [
            (t.pk, field.label_from_instance(t)) for t in types
        ]
        if not self.instance.pk and not self.initial.get("type"):
            default = next((t for t in types if t.is_default), None)
            if default:
                self.initial["type"] = default.pk
        if "occurred_at" in self.fields:
            self.fields["occurred_at"].widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL)
            self.fields["occurred_at"].input_formats = [DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
            if not self.instance.pk and not self.initial.get("occurred_at"):
                self.initial["occurred_at"] = timezone.localtime().replace(second=0, microsecond=0)
        if "next_at" in self.fields:
            self.fields["next_at"].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
            self.fields["next_at"].help_text = _("Empty: the customer level's follow-up cycle decides.")
        if "content" in self.fields:
            self.fields["content"].widget = forms.Textarea(attrs={"rows": 3, "maxlength": 10000})
        for name in ("checkin_lat", "checkin_lng"):
            if name in self.fields:
                self.fields[name].widget = forms.NumberInput(attrs={"step": "any", "data-geo": name})
        if "checkin_address" in self.fields:
            self.fields["checkin_address"].widget.attrs["data-geo"] = "checkin_address"
        customer_id = _parent_id(self, "customer")
        if "contacts" in self.fields:
            contacts = Contact.objects.visible_to(user).filter(customer_id=customer_id) if customer_id else Contact.objects.none()
            self.fields["contacts"].queryset = contacts.only("id", "name", "customer_id").order_by("-is_primary", "id")
            self.fields["contacts"].widget = forms.CheckboxSelectMultiple()
            if not customer_id:
                del self.fields["contacts"]
        if "customer" in self.fields:
            self.fields["customer"].queryset = Customer.objects.visible_to(user).only("id", "name")
            if parent_widgets:
                self.fields["customer"].widget = AutocompleteSelect(reverse_lazy("customers:customer_autocomplete"))
                self.fields["customer"].widget.choices = self.fields["customer"].choices
        if "lead" in self.fields:
            self.fields["lead"].queryset = Lead.objects.visible_to(user).only("id", "name", "company")
            if not parent_widgets:
                return
            try:
                url = reverse("leads:lead_autocomplete")
            except NoReverseMatch:
                url = None
            if url:
                self.fields["lead"].widget = AutocompleteSelect(url)
                self.fields["lead"].widget.choices = self.fields["lead"].choices
            else:
                self.fields["lead"].widget = forms.HiddenInput()


class FollowUpForm(FollowUpFieldsMixin, BusinessModelForm):
    sections = [
        (_("Follow-up"), ["customer", "lead", "contacts", "type", "occurred_at", "content", "files"]),
        (_("Next step"), ["next_at", "next_plan"]),
        (_("Visit check-in"), ["checkin_address", "checkin_lat", "checkin_lng"]),
    ]

    files = MultipleFileField(label=_("Attachments"))

    class Meta:
        model = FollowUp
        fields = [
            "customer", "lead", "contacts", "type", "occurred_at", "content", "next_at", "next_plan",
            "checkin_address", "checkin_lat", "checkin_lng",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_fields(self.user)
        style_widgets(self)
        if "contacts" in self.fields:
            self.fields["contacts"].widget.attrs.pop("class", None)


class QuickFollowUpForm(FollowUpFieldsMixin, forms.ModelForm):
    """The short form at the top of a customer's or lead's timeline."""

    files = MultipleFileField(label=_("Attachments"))

    class Meta:
        model = FollowUp
        fields = ["customer", "lead", "type", "occurred_at", "content", "next_at", "next_plan", "checkin_address", "checkin_lat", "checkin_lng"]

    def __init__(self, *args, user=None, parent=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["customer"].widget = forms.HiddenInput()
        self.fields["lead"].widget = forms.HiddenInput()
        self.setup_fields(user, parent_widgets=False)
        self.fields["content"].widget.attrs.update({"rows": 2, "placeholder": _("What happened? (required)")})
        style_widgets(self)


class CommentForm(forms.ModelForm):
    class Meta:
        model = FollowUpComment
        fields = ["body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 1, "maxlength": 2000})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].widget.attrs["placeholder"] = _("Comment… use @name to notify a colleague")
        style_widgets(self)
