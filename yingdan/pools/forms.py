"""Pool configuration forms (admins) and the small action forms (release reason, assign)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from yingdan.core.models import Lookup
from yingdan.org.models import Department

from .models import Pool, PoolObject, PoolSettings

# Fields admins may hide while a record sits in a pool, per kind of record.
HIDEABLE_FIELDS = {
    PoolObject.CUSTOMER: ["phone", "website", "address", "credit_code", "remarks", "short_name", "city", "district"],
    PoolObject.LEAD: ["mobile", "phone", "email", "remarks", "title", "city", "district"],
}


def _user_choices():
    return get_user_model().objects.filter(is_active=True).order_by("username")


class PoolForm(forms.ModelForm):
    departments = forms.ModelMultipleChoiceField(Department.objects.all(), required=False, label=_("Departments in scope"),
                                                 widget=forms.SelectMultiple(attrs={"size": 6}))
    admins = forms.ModelMultipleChoiceField(_user_choices(), required=False, label=_("Pool admins"),
                                            widget=forms.SelectMultiple(attrs={"size": 6}))
    members = forms.ModelMultipleChoiceField(
        _user_choices(), required=False, label=_("Members"), widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Users who may see and claim. Empty: everyone in the departments in scope."),
    )
    hidden_fields = forms.MultipleChoiceField(required=False, label=_("Fields hidden while in the pool"),
                                              widget=forms.CheckboxSelectMultiple)
    no_followup_days = forms.IntegerField(min_value=1, max_value=3650, required=False,
                                          label=_("Recycle after days without a follow-up"))
    no_won_days = forms.IntegerField(min_value=1, max_value=3650, required=False,
                                     label=_("Recycle after days without a won deal (customers)"))
    level_rules = forms.CharField(
        required=False, label=_("Rules per customer level"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One line per level: level name, days without follow-up, days without a won deal (e.g. “A, 30, 180”). Empty values switch that condition off."),
    )

    class Meta:
        model = Pool
        fields = [
            "name", "object_type", "kind", "description", "is_default", "is_active", "departments", "admins",
            "members", "hold_cap", "count_won", "daily_claim_cap", "cooldown_days", "recycle_enabled",
            "warn_days", "clear_department", "hidden_fields",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        object_type = (self.data.get("object_type") if self.is_bound else None) or self.instance.object_type or PoolObject.CUSTOMER
        if self.instance.pk:
            self.fields["object_type"].disabled = True
            object_type = self.instance.object_type
        choices = []
        from . import services

        model = services.model_for(object_type)
        for name in HIDEABLE_FIELDS.get(object_type, []):
            try:
                choices.append((name, model._meta.get_field(name).verbose_name))
            except Exception:
                continue
        self.fields["hidden_fields"].choices = choices
        rules = self.instance.recycle_rules or {}
        default = rules.get("default") or {}
        self.initial.setdefault("no_followup_days", default.get("no_followup_days"))
        self.initial.setdefault("no_won_days", default.get("no_won_days"))
        levels = {lv.pk: lv for lv in Lookup.objects.filter(kind="customer_level")}
        lines = []
        for key, rule in rules.items():
            if key == "default":
                continue
            level = levels.get(int(key)) if str(key).isdigit() else None
            if level is None:
                continue
            lines.append(f"{level.name}, {rule.get('no_followup_days') or ''}, {rule.get('no_won_days') or ''}")
        self.initial.setdefault("level_rules", "\n".join(lines))

    def clean_level_rules(self):
        text = self.cleaned_data.get("level_rules") or ""
        levels = {lv.name.strip().lower(): lv for lv in Lookup.objects.filter(kind="customer_level")}
        out = {}
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.replace("，", ",").split(",")]
            while len(parts) < 3:
                parts.append("")
            level = levels.get(parts[0].lower())
            if level is None:
                raise forms.ValidationError(_("Line %(n)d: unknown customer level “%(name)s”.") % {"n": number, "name": parts[0]})
            values = {}
            for key, raw in zip(("no_followup_days", "no_won_days"), parts[1:3], strict=False):
                if raw == "":
                    values[key] = None
                    continue
                if not raw.isdigit() or not 0 < int(raw) <= 3650:
                    raise forms.ValidationError(_("Line %(n)d: days must be a whole number from 1 to 3650.") % {"n": number})
                values[key] = int(raw)
            out[str(level.pk)] = values
        return out

    def clean(self):
        data = super().clean()
        rules = dict(data.get("level_rules") or {})
        default = {"no_followup_days": data.get("no_followup_days"), "no_won_days": data.get("no_won_days")}
        if any(default.values()):
            rules["default"] = default
        from .services import recycling_without_limit

        if recycling_without_limit(data.get("recycle_enabled"), rules):
            self.add_error("no_followup_days", _("Automatic recycling needs at least one time limit."))
        self.instance.recycle_rules = rules
        return data


class PoolSettingsForm(forms.ModelForm):
    class Meta:
        model = PoolSettings
        fields = ["customer_hold_cap", "lead_hold_cap", "count_won"]


class ReleaseForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    pool = forms.ModelChoiceField(Pool.objects.filter(is_active=True), required=False, label=_("Pool"),
                                  empty_label=_("The pool covering its department"))


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(get_user_model().objects.all(), label=_("Assign to"))
