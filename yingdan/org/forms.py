"""Forms of the organisation pages: users, departments, roles (with the permission matrix), bulk actions.

Organisation models have no custom fields; these are plain ModelForms with the product's widget styling and
the `grouped_fields()` sections the generic edit template renders. Writes go through yingdan.org.services.
"""

from __future__ import annotations

from django import forms
from django.apps import apps
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from yingdan.core.choices import Action, DataScope, FieldAccess
from yingdan.core.forms import style_widgets
from yingdan.core.models import CustomField
from yingdan.core.models.base import BusinessModel, department_ids_for
from yingdan.core.permissions import all_modules, get_permissions

from .filtersets import department_path_labeller
from .models import Department, Role, User

# Fields never offered in a role's field-permission section (internal or derived columns).
FIELD_PERMISSION_EXCLUDE = {"custom_fields", "search_name", "search_pinyin", "search_initials"}


class DepartmentChoiceField(forms.ModelChoiceField):
    """Options labelled with the department path, e.g. “华东大区 / 上海组”."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.label_from_instance = department_path_labeller()

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)
        result.label_from_instance = department_path_labeller()  # a fresh name cache per form
        return result


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.username})" if obj.name else obj.username


class CheckboxList(forms.CheckboxSelectMultiple):
    """Checkboxes styled like the rest of the product (the class goes on each box, not on the wrapper)."""

    def create_option(self, *args, **kwargs):
        option = super().create_option(*args, **kwargs)
        option["attrs"]["class"] = "form-check-input"
        return option


class SectionedForm:
    """`sections` = [(title, [field names])]; `grouped_fields()` as the generic edit template expects."""

    sections: list = []

    def grouped_fields(self):
        used, groups = set(), []
        for title, names in self.sections:
            bound = [self[n] for n in names if n in self.fields]
            used.update(names)
            if bound:
                groups.append((title, bound))
        rest = [self[n] for n in self.fields if n not in used]
        if rest:
            groups.append((_("Other"), rest))
        return groups


def is_admin(user) -> bool:
    return get_permissions(user).is_admin


# -- users ---------------------------------------------------------------------------------------------
def departments_for_user_editor(actor):
    """Departments `actor` may place users in: those their users scope covers (all with scope 'all')."""
    qs = Department.objects.order_by("path").only("id", "name", "depth", "path")
    perms = get_permissions(actor)
    scope = perms.scope("users")
    if scope == DataScope.ALL:
        return qs
    return qs.filter(pk__in=department_ids_for(actor, scope))


class UserForm(SectionedForm, forms.ModelForm):
    sections = [
        (_("Account"), ["username", "password1", "password2", "is_active"]),
        (_("Profile"), ["name", "mobile", "email", "title", "language"]),
        (_("Organisation"), ["department", "roles"]),
    ]

    password1 = forms.CharField(
        label=_("Initial password"), strip=False, required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html,
    )
    password2 = forms.CharField(
        label=_("Repeat the password"), strip=False, required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = User
        fields = ["username", "name", "mobile", "email", "title", "language", "department", "roles", "is_active"]
        field_classes = {"department": DepartmentChoiceField}
        widgets = {"roles": CheckboxList}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.is_new = self.instance.pk is None
        if not self.is_new:
            del self.fields["password1"], self.fields["password2"]
        else:
            self.fields["password1"].required = True
            self.fields["password2"].required = True
        self.fields["name"].required = True
        self.fields["username"].widget.attrs.update({"autocapitalize": "none", "autocomplete": "off"})
        self.fields["mobile"].widget.attrs.update({"inputmode": "tel", "placeholder": "13800138000"})
        self.fields["is_active"].help_text = _("Deactivated users cannot sign in; nothing they own is deleted.")
        if user is not None:
            self.fields["department"].queryset = departments_for_user_editor(user)
            roles = Role.objects.order_by("id")
            if not is_admin(user):
                roles = roles.filter(is_admin=False)
            self.fields["roles"].queryset = roles
        style_widgets(self)

    def clean(self):
        cleaned = super().clean()
        if self.is_new:
            p1, p2 = cleaned.get("password1"), cleaned.get("password2")
            if p1 and p2 and p1 != p2:
                self.add_error("password2", forms.ValidationError(_("The two passwords do not match."), code="password_mismatch"))
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        # Validate the password after the instance has the form's values (similarity checks need them).
        password = self.cleaned_data.get("password1") if self.is_new else None
        if password and "password2" not in self.errors:
            try:
                password_validation.validate_password(password, self.instance)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)


class UserPasswordForm(forms.Form):
    """An administrator sets a new password for a user."""

    new_password1 = forms.CharField(
        label=_("New password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html,
    )
    new_password2 = forms.CharField(label=_("Repeat the new password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, target=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.target = target
        style_widgets(self)

    def clean_new_password2(self):
        p1, p2 = self.cleaned_data.get("new_password1"), self.cleaned_data.get("new_password2")
        if p1 and p2 and p1 != p2:
            raise forms.ValidationError(_("The two passwords do not match."), code="password_mismatch")
        if p2:
            password_validation.validate_password(p2, self.target)
        return p2


class UserSetDepartmentForm(forms.Form):
    department = DepartmentChoiceField(queryset=Department.objects.none(), label=_("New main department"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments_for_user_editor(user)
        style_widgets(self)


class UserAddRoleForm(forms.Form):
    role = forms.ModelChoiceField(queryset=Role.objects.none(), label=_("Role to add"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        roles = Role.objects.order_by("id")
        if not is_admin(user):
            roles = roles.filter(is_admin=False)
        self.fields["role"].queryset = roles
        style_widgets(self)


# -- departments ---------------------------------------------------------------------------------------
class DepartmentForm(SectionedForm, forms.ModelForm):
    sections = [(_("Department"), ["name", "parent", "manager", "order", "is_active"])]

    class Meta:
        model = Department
        fields = ["name", "parent", "manager", "order", "is_active"]
        field_classes = {"parent": DepartmentChoiceField, "manager": UserChoiceField}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        parents = Department.objects.order_by("path").only("id", "name", "depth", "path")
        self.fields["parent"].empty_label = _("(top level)")
        self.fields["parent"].help_text = _("Leave empty for a top-level department.")
        if user is not None:
            parents = parents.visible_to(user)
            if get_permissions(user).scope("departments") != DataScope.ALL:
                # Top-level departments would fall outside a limited scope.
                self.fields["parent"].required = True
                self.fields["parent"].help_text = _("Choose a department within your scope.")
        self.fields["parent"].queryset = parents
        managers = User.objects.filter(is_active=True)
        if self.instance.manager_id:
            managers = User.objects.filter(is_active=True) | User.objects.filter(pk=self.instance.manager_id)
        self.fields["manager"].queryset = managers.order_by("name", "username").only("id", "name", "username")
        self.fields["order"].help_text = _("Smaller numbers come first among siblings.")
        self.fields["name"].widget.attrs.update({"autofocus": True})
        style_widgets(self)


# -- roles ---------------------------------------------------------------------------------------------
def module_models(module_key: str) -> list:
    return [m for m in apps.get_models() if getattr(m, "permission_module", None) == module_key]


def module_fields(module_key: str) -> list[tuple[str, str]]:
    """(name, label) of the fields a role can restrict in a module: the business models' concrete editable
    fields and many-to-many fields, then their active custom fields as cf_KEY."""
    out: dict[str, str] = {}
    for model in module_models(module_key):
        if not issubclass(model, BusinessModel):
            continue
        for field in [*model._meta.fields, *model._meta.many_to_many]:
            if field.primary_key or not field.editable or field.name in FIELD_PERMISSION_EXCLUDE:
                continue
            out.setdefault(field.name, str(field.verbose_name))
        for definition in CustomField.objects.for_model(model):
            out.setdefault(definition.form_name, definition.display_label)
    return list(out.items())


class RoleForm(SectionedForm, forms.ModelForm):
    """Name and description, plus the permission matrix as real form fields:

    perm__MODULE__ACTION (checkbox, only for actions the module supports), scope__MODULE (select) and
    field__MODULE__FIELD (edit / read-only / hidden). `clean()` turns them into the role's JSON."""

    sections = [(_("Role"), ["name", "description", "is_admin"])]

    class Meta:
        model = Role
        fields = ["name", "description", "is_admin"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.modules = all_modules()
        self.module_field_lists = {m.key: module_fields(m.key) for m in self.modules}
        permissions = self.instance.permissions or {}
        field_permissions = self.instance.field_permissions or {}
        for module in self.modules:
            grant = permissions.get(module.key) or {}
            granted = set(grant.get("actions", []))
            for action in module.actions:
                self.fields[f"perm__{module.key}__{action}"] = forms.BooleanField(
                    required=False, initial=action in granted, label=f"{module.label}: {Action(action).label}"
                )
            self.fields[f"scope__{module.key}"] = forms.ChoiceField(
                choices=DataScope.choices, required=False, initial=grant.get("scope", DataScope.OWN),
                label=_("%(module)s: data scope") % {"module": module.label},
                error_messages={"invalid_choice": _("Unknown data scope “%(value)s”.")},
            )
            for name, label in self.module_field_lists[module.key]:
                self.fields[f"field__{module.key}__{name}"] = forms.ChoiceField(
                    choices=FieldAccess.choices, required=False,
                    initial=field_permissions.get(module.key, {}).get(name, FieldAccess.EDIT),
                    label=f"{module.label}: {label}",
                    error_messages={"invalid_choice": _("Unknown access level “%(value)s”.")},
                )
        self.fields["name"].widget.attrs.update({"autofocus": True})
        self.fields["is_admin"].help_text = _("Administrators have every permission on all data; the matrix below is ignored.")
        if user is not None and not is_admin(user):
            self.fields["is_admin"].disabled = True
        style_widgets(self)
        for name, field in self.fields.items():
            if name.startswith(("scope__", "field__")):
                field.widget.attrs["class"] = "form-select form-select-sm"

    def grouped_fields(self):
        """Only the role's own fields; the matrix fields are rendered by `matrix()`."""
        return [(title, [self[n] for n in names if n in self.fields]) for title, names in self.sections]

    def clean(self):
        cleaned = super().clean()
        permissions: dict = {}
        field_permissions: dict = {}
        old_fields = self.instance.field_permissions or {}
        for module in self.modules:
            actions = [a for a in module.actions if cleaned.get(f"perm__{module.key}__{a}")]
            scope = cleaned.get(f"scope__{module.key}") or DataScope.OWN
            if actions or scope != DataScope.OWN:
                permissions[module.key] = {"actions": actions, "scope": scope}
            shown = {name for name, _label in self.module_field_lists[module.key]}
            # Keep restrictions on fields not shown (e.g. a deactivated custom field) as they were.
            levels = {k: v for k, v in (old_fields.get(module.key) or {}).items() if k not in shown}
            for name in shown:
                level = cleaned.get(f"field__{module.key}__{name}") or FieldAccess.EDIT
                if level != FieldAccess.EDIT:
                    levels[name] = level
            if levels:
                field_permissions[module.key] = levels
        self.instance.permissions = permissions
        self.instance.field_permissions = field_permissions
        return cleaned

    def matrix(self):
        """Rows for the template: one per module with its action checkboxes, scope select and field levels."""
        actions = list(Action)
        rows = []
        for module in self.modules:
            cells = []
            for action in actions:
                name = f"perm__{module.key}__{action.value}"
                cells.append({"action": action, "field": self[name] if name in self.fields else None})
            fields = [self[f"field__{module.key}__{n}"] for n, _label in self.module_field_lists[module.key]]
            labels = [label for _n, label in self.module_field_lists[module.key]]
            restricted = sum(1 for f in fields if (f.value() or FieldAccess.EDIT) != FieldAccess.EDIT)
            rows.append({
                "module": module, "cells": cells, "scope": self[f"scope__{module.key}"],
                "fields": list(zip(labels, fields, strict=True)), "restricted": restricted,
                "has_errors": any(f.errors for f in fields),
            })
        return {"actions": actions, "rows": rows}
