"""Custom fields: a definition model plus one JSON column (`custom_fields`) on every business object.

Values are validated by `CustomField.clean_value()` on every path (forms, API, imports). Choices are stored
by their stable `value` key: renaming a choice changes only its label, and removing one deactivates it (old
records keep and show their value; new writes are refused).
"""

from __future__ import annotations

import datetime
import decimal
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, RegexValidator, URLValidator
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ..choices import CustomFieldType as T
from ..validators import normalize_phone
from .base import ChangeLoggedModel, ScopedQuerySet

NAME_RE = r"^[a-z][a-z0-9_]{0,49}$"


class CustomFieldQuerySet(ScopedQuerySet):
    def for_model(self, model):
        return self.filter(object_type=model._meta.label_lower, is_active=True).order_by("order", "id")


class CustomField(ChangeLoggedModel):
    object_type = models.CharField(_("object type"), max_length=100, db_index=True)
    name = models.CharField(
        _("key"), max_length=50, validators=[RegexValidator(NAME_RE, _("Use lower-case letters, digits and _; start with a letter."))],
        help_text=_("Stable key used in the API and imports, e.g. budget."),
    )
    label = models.CharField(_("label"), max_length=100)
    label_en = models.CharField(_("English label"), max_length=100, blank=True)
    type = models.CharField(_("type"), max_length=20, choices=T.choices)
    required = models.BooleanField(_("required"), default=False)
    default = models.JSONField(_("default"), null=True, blank=True)
    unique = models.BooleanField(_("unique"), default=False)
    min_value = models.DecimalField(_("minimum"), max_digits=20, decimal_places=4, null=True, blank=True)
    max_value = models.DecimalField(_("maximum"), max_digits=20, decimal_places=4, null=True, blank=True)
    max_length = models.PositiveIntegerField(_("maximum length"), null=True, blank=True)
    regex = models.CharField(_("pattern (regex)"), max_length=500, blank=True)
    help_text = models.CharField(_("help text"), max_length=300, blank=True)
    order = models.IntegerField(_("order"), default=100)
    section = models.CharField(_("section"), max_length=50, blank=True)
    choices = models.JSONField(
        _("choices"), default=list, blank=True,
        help_text=_('List of {"value", "label", "active"}; values are stable keys.'),
    )
    show_in_list = models.BooleanField(_("default list column"), default=False)
    filterable = models.BooleanField(_("filterable"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CustomFieldQuerySet.as_manager()
    permission_module = "settings"

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["object_type", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["object_type", "name"], name="core_customfield_unique_name",
                violation_error_message=_("A field with this key already exists on this object."),
            )
        ]

    def __str__(self):
        return self.display_label

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("core:customfield_edit", args=[self.pk])

    @classmethod
    def scope_q(cls, user, scope, prefix=""):
        return models.Q()

    @property
    def display_label(self) -> str:
        if (get_language() or "").startswith("en") and self.label_en:
            return self.label_en
        return self.label

    @property
    def form_name(self) -> str:
        return f"cf_{self.name}"

    # -- choices ---------------------------------------------------------------------------------
    def choice_map(self) -> dict[str, dict]:
        return {str(c.get("value")): c for c in (self.choices or [])}

    def choice_label(self, value) -> str:
        c = self.choice_map().get(str(value))
        if c is None:
            return f"{value} ({_('unknown option')})"
        label = c.get("label_en") if (get_language() or "").startswith("en") and c.get("label_en") else c.get("label", value)
        return label if c.get("active", True) else f"{label} ({_('retired')})"

    def active_choices(self) -> list[tuple[str, str]]:
        return [(str(c["value"]), self.choice_label(c["value"])) for c in (self.choices or []) if c.get("active", True)]

    # -- validation ------------------------------------------------------------------------------
    def clean(self):
        super().clean()
        if self.type in (T.SELECT, T.MULTISELECT):
            values = [str(c.get("value", "")).strip() for c in (self.choices or [])]
            if not values or any(not v for v in values):
                raise ValidationError({"choices": _("Give at least one option, each with a value.")})
            if len(values) != len(set(values)):
                raise ValidationError({"choices": _("Option values must be unique.")})
        if self.regex:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValidationError({"regex": _("Invalid pattern: %(error)s") % {"error": exc}})
        if self.min_value is not None and self.max_value is not None and self.min_value > self.max_value:
            raise ValidationError({"max_value": _("The maximum must not be below the minimum.")})
        if self.pk:
            old = type(self).objects.filter(pk=self.pk).values("type", "name", "object_type").first()
            if old and (old["type"] != self.type or old["name"] != self.name or old["object_type"] != self.object_type):
                raise ValidationError(_("The key, object and type of a field cannot change once created; add a new field instead."))
            if old and self.type in (T.SELECT, T.MULTISELECT):
                prev = CustomField.objects.get(pk=self.pk).choice_map()
                missing = set(prev) - set(self.choice_map())
                if missing:
                    raise ValidationError({"choices": _("Options cannot be removed, only deactivated (set active to false): %(v)s") % {"v": ", ".join(sorted(missing))}})
        if self.default not in (None, ""):
            self.clean_value(self.default, check_required=False)

    def clean_value(self, value, *, previous=None, check_required: bool = True):
        """Return the JSON-storable form of `value` or raise ValidationError with a clear message.

        `previous` is the stored value: an unchanged retired choice stays valid.
        """
        empty = value is None or value == "" or value == []
        if empty:
            if check_required and self.required:
                raise ValidationError(_("This field is required."), code="required")
            return [] if self.type == T.MULTISELECT else None
        t = self.type
        if t in (T.TEXT, T.LONGTEXT, T.PHONE, T.EMAIL, T.URL):
            if not isinstance(value, str):
                value = str(value)
            value = value.strip()
            limit = self.max_length or (10000 if t == T.LONGTEXT else 255)
            if len(value) > limit:
                raise ValidationError(_("At most %(n)d characters (it has %(m)d).") % {"n": limit, "m": len(value)})
            if t == T.PHONE:
                value = normalize_phone(value)
            elif t == T.EMAIL:
                EmailValidator(_("Enter a valid e-mail address."))(value)
                value = value.lower()
            elif t == T.URL:
                URLValidator(message=_("Enter a valid URL (http:// or https://)."))(value)
            if self.regex and not re.fullmatch(self.regex, value):
                raise ValidationError(_("The value does not match the required format."))
            return value
        if t == T.INTEGER:
            if isinstance(value, bool):
                raise ValidationError(_("Enter a whole number."))
            try:
                number = int(str(value).strip())
            except (TypeError, ValueError):
                raise ValidationError(_("Enter a whole number."))
            self._check_range(number)
            if abs(number) > 10**15:
                raise ValidationError(_("The number is too large."))
            return number
        if t in (T.DECIMAL, T.MONEY):
            if isinstance(value, bool):
                raise ValidationError(_("Enter a number."))
            try:
                number = decimal.Decimal(str(value).strip().replace(",", "").replace("¥", ""))
            except (decimal.InvalidOperation, ValueError):
                raise ValidationError(_("Enter a number."))
            if not number.is_finite() or abs(number) >= decimal.Decimal(10) ** 15:
                raise ValidationError(_("The number is too large."))
            self._check_range(number)
            places = 2 if t == T.MONEY else 4
            return str(number.quantize(decimal.Decimal(1).scaleb(-places)))
        if t == T.DATE:
            if isinstance(value, datetime.datetime):
                value = value.date()
            try:
                parsed = value if isinstance(value, datetime.date) else parse_date(str(value).strip())
            except ValueError:
                parsed = None
            if parsed is None:
                raise ValidationError(_("Enter a valid date (YYYY-MM-DD)."))
            if not (1900 <= parsed.year <= 2200):
                raise ValidationError(_("The year must be between 1900 and 2200."))
            return parsed.isoformat()
        if t == T.DATETIME:
            try:
                parsed = value if isinstance(value, datetime.datetime) else parse_datetime(str(value).strip())
            except ValueError:
                parsed = None
            if parsed is None:
                raise ValidationError(_("Enter a valid date and time."))
            if timezone.is_naive(parsed):
                parsed = timezone.make_aware(parsed)
            return parsed.isoformat()
        if t == T.BOOLEAN:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "y", "是", "on"}:
                return True
            if text in {"0", "false", "no", "n", "否", "off"}:
                return False
            raise ValidationError(_("Enter yes or no."))
        if t == T.SELECT:
            return self._clean_choice(value, previous=[previous] if previous not in (None, "") else [])
        if t == T.MULTISELECT:
            items = value if isinstance(value, (list, tuple)) else [v for v in str(value).split(",")]
            cleaned = []
            for item in items:
                c = self._clean_choice(item, previous=previous or [])
                if c not in cleaned:
                    cleaned.append(c)
            return cleaned
        if t == T.USER:
            from django.contrib.auth import get_user_model

            try:
                pk = int(getattr(value, "pk", value))
            except (TypeError, ValueError):
                raise ValidationError(_("Choose a valid user."))
            if not get_user_model().objects.filter(pk=pk).exists():
                raise ValidationError(_("Choose a valid user."))
            return pk
        raise ValidationError(_("Unknown field type."))  # pragma: no cover

    def _clean_choice(self, value, previous):
        value = str(value).strip()
        choices = self.choice_map()
        if value not in choices:
            # Accept the label too (imports and humans type labels).
            by_label = {str(c.get("label")): str(c.get("value")) for c in self.choices or []}
            if value in by_label:
                value = by_label[value]
            else:
                raise ValidationError(_("“%(value)s” is not one of the options.") % {"value": value})
        if not choices[value].get("active", True) and value not in [str(p) for p in previous]:
            raise ValidationError(_("The option “%(value)s” is retired.") % {"value": value})
        return value

    def _check_range(self, number):
        low = None if self.min_value is None else decimal.Decimal(str(self.min_value))
        high = None if self.max_value is None else decimal.Decimal(str(self.max_value))
        if low is not None and number < low:
            raise ValidationError(_("Must be at least %(v)s.") % {"v": f"{low.normalize():f}"})
        if high is not None and number > high:
            raise ValidationError(_("Must be at most %(v)s.") % {"v": f"{high.normalize():f}"})

    def display_value(self, value) -> str:
        if value is None or value == "" or value == []:
            return ""
        if self.type == T.SELECT:
            return self.choice_label(value)
        if self.type == T.MULTISELECT:
            return "、".join(self.choice_label(v) for v in value)
        if self.type == T.BOOLEAN:
            return str(_("Yes") if value else _("No"))
        if self.type == T.MONEY:
            from ..templatetags.yingdan import money

            return money(value)
        if self.type == T.USER:
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.filter(pk=value).first()
            return str(user) if user else str(value)
        return str(value)


class CustomFieldsMixin(models.Model):
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True, encoder=None)

    class Meta:
        abstract = True

    @classmethod
    def custom_field_definitions(cls):
        return list(CustomField.objects.for_model(cls))

    def validate_custom_fields(self, data: dict, definitions=None, *, partial: bool = False) -> dict:
        """Validate `data` ({key: value}) against the definitions; return the merged stored dict.

        Raises ValidationError({"cf_key": message}) listing every bad field. Unknown keys are refused.
        """
        definitions = definitions if definitions is not None else self.custom_field_definitions()
        by_name = {d.name: d for d in definitions}
        errors = {}
        for key in data:
            if key not in by_name:
                errors[f"cf_{key}"] = [_("Unknown custom field “%(key)s”.") % {"key": key}]
        current = dict(self.custom_fields or {})
        result = dict(current)
        for d in definitions:
            if d.name not in data:
                if partial:
                    continue
                if self.pk is None and d.default not in (None, ""):
                    value = d.default
                else:
                    value = current.get(d.name)
            else:
                value = data[d.name]
            try:
                result[d.name] = d.clean_value(value, previous=current.get(d.name))
            except ValidationError as exc:
                errors[f"cf_{d.name}"] = exc.messages
                continue
            if d.unique and result[d.name] not in (None, "", []):
                clash = type(self)._default_manager.filter(**{f"custom_fields__{d.name}": result[d.name]})
                if self.pk:
                    clash = clash.exclude(pk=self.pk)
                if clash.exists():
                    errors[f"cf_{d.name}"] = [_("This value is already used by another record.")]
        if errors:
            raise ValidationError(errors)
        return {k: v for k, v in result.items() if v not in (None, "", [])}


def user_model_label() -> str:
    return settings.AUTH_USER_MODEL
