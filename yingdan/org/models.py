"""Users, the department tree and roles (named permission sets with data scopes and field permissions)."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yingdan.core.choices import DataScope
from yingdan.core.models.base import ChangeLoggedModel, ScopedQuerySet, department_ids_for
from yingdan.core.validators import normalize_phone, validate_mobile


class DepartmentQuerySet(ScopedQuerySet):
    pass


class Department(ChangeLoggedModel):
    """A node of the organisation tree. `path` ("/1/4/9/") is the materialised ancestry, kept by the
    services, so "department and sub-departments" is one indexed prefix match."""

    permission_module = "departments"
    changelog_exclude = ("path", "depth")

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent department"), on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    manager = models.ForeignKey(
        "org.User", verbose_name=_("manager"), on_delete=models.SET_NULL, null=True, blank=True, related_name="managed_departments"
    )
    order = models.IntegerField(_("order"), default=100)
    path = models.CharField(_("path"), max_length=500, db_index=True, editable=False, default="/")
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="org_department_unique_name",
                violation_error_message=_("A department with this name already exists under the same parent."),
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("org:department_detail", args=[self.pk])

    @classmethod
    def scope_q(cls, user, scope, prefix=""):
        depts = department_ids_for(user, scope)
        return Q(**{f"{prefix}pk__in": depts})

    def descendant_ids(self, include_self: bool = True) -> list[int]:
        ids = list(Department.objects.filter(path__startswith=self.path).values_list("pk", flat=True))
        if not include_self:
            ids = [i for i in ids if i != self.pk]
        return ids

    def ancestors(self):
        ids = [int(p) for p in self.path.strip("/").split("/") if p and int(p) != self.pk]
        return sorted(Department.objects.filter(pk__in=ids), key=lambda d: d.depth)

    @property
    def full_name(self) -> str:
        return " / ".join([a.name for a in self.ancestors()] + [self.name])

    def clean(self):
        super().clean()
        if self.pk and self.parent_id:
            if self.parent_id == self.pk or Department.objects.filter(pk=self.parent_id, path__startswith=Department.objects.get(pk=self.pk).path).exists():
                raise ValidationError({"parent": _("A department cannot be moved under itself or one of its sub-departments.")})


class RoleQuerySet(ScopedQuerySet):
    pass


class Role(ChangeLoggedModel):
    """A named permission set.

    permissions: {module: {"actions": [...], "scope": "own|department|department_tree|all"}}
    field_permissions: {module: {field: "read"|"hidden"}} (fields not listed are editable; custom fields as cf_KEY)
    """

    permission_module = "roles"

    name = models.CharField(_("name"), max_length=50, unique=True)
    code = models.CharField(_("code"), max_length=50, blank=True, help_text=_("Built-in roles have a fixed code."))
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_builtin = models.BooleanField(_("built-in"), default=False, editable=False)
    is_admin = models.BooleanField(_("administrator"), default=False, help_text=_("Grants every permission on all data."))
    permissions = models.JSONField(_("permissions"), default=dict, blank=True)
    field_permissions = models.JSONField(_("field permissions"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = RoleQuerySet.as_manager()

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("org:role_detail", args=[self.pk])

    @classmethod
    def scope_q(cls, user, scope, prefix=""):
        return Q()

    def grant(self, module: str) -> dict:
        return (self.permissions or {}).get(module, {"actions": [], "scope": DataScope.OWN})


class YingdanUserManager(UserManager):
    def get_queryset(self):
        return UserQuerySet(self.model, using=self._db)

    def visible_to(self, user, action="view"):
        return self.get_queryset().visible_to(user, action)


class UserQuerySet(ScopedQuerySet):
    pass


class User(ChangeLoggedModel, AbstractUser):
    permission_module = "users"
    changelog_exclude = ("password", "last_login")

    name = models.CharField(_("full name"), max_length=50, blank=True, help_text=_("Chinese name shown everywhere, e.g. 张伟."))
    mobile = models.CharField(
        _("mobile"), max_length=20, null=True, blank=True, unique=True, validators=[validate_mobile],
        error_messages={"unique": _("Another user already has this mobile number.")},
    )
    department = models.ForeignKey(
        Department, verbose_name=_("main department"), on_delete=models.PROTECT, null=True, blank=True, related_name="members"
    )
    roles = models.ManyToManyField(Role, verbose_name=_("roles"), blank=True, related_name="users")
    title = models.CharField(_("job title"), max_length=50, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True, choices=[("zh-hans", "简体中文"), ("en", "English")])
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)

    objects = YingdanUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["id"]

    def __str__(self):
        return self.name or self.username

    def get_absolute_url(self):
        return reverse("org:user_detail", args=[self.pk])

    @classmethod
    def scope_q(cls, user, scope, prefix=""):
        q = Q(**{f"{prefix}pk": user.pk})
        depts = department_ids_for(user, scope)
        if depts:
            q |= Q(**{f"{prefix}department_id__in": depts})
        return q

    def clean(self):
        super().clean()
        if self.mobile:
            self.mobile = normalize_phone(self.mobile)
        else:
            self.mobile = None

    @property
    def display_name(self) -> str:
        return self.name or self.username

    @property
    def role_names(self) -> list[str]:
        return [r.name for r in self.roles.all()]


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """An API token. Only its SHA-256 is stored; the key is shown once at creation."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=8, editable=False)
    digest = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    read_only = models.BooleanField(_("read-only"), default=False)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.prefix}… ({self.user})"

    @classmethod
    def issue(cls, user, *, name: str = "", read_only: bool = False, expires_at=None) -> tuple[ApiToken, str]:
        key = secrets.token_hex(20)
        token = cls.objects.create(user=user, name=name, prefix=key[:8], digest=hash_token(key), read_only=read_only, expires_at=expires_at)
        return token, key

    @property
    def is_valid(self) -> bool:
        if self.revoked_at:
            return False
        return not (self.expires_at and self.expires_at <= timezone.now())
