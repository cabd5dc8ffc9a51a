"""Duplicate-check rules (查重规则), ownership-transfer requests raised from a hit, and merge redirects."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yingdan.core.models import BusinessModel
from yingdan.core.models.base import ChangeLoggedModel, ScopedQuerySet, department_ids_for
from yingdan.core.permissions import get_permissions
from yingdan.org.models import Department

from .fields import validate_conditions


class ObjectType(models.TextChoices):
    LEAD = "lead", _("Lead")
    CUSTOMER = "customer", _("Customer")
    CONTACT = "contact", _("Contact")


class RuleAction(models.TextChoices):
    WARN = "warn", _("Warn")
    BLOCK = "block", _("Block")


class MatchKind(models.TextChoices):
    EXACT = "exact", _("Exact")
    FUZZY = "fuzzy", _("Fuzzy")


class EntryPoint(models.TextChoices):
    FORM = "form", _("Form")
    API = "api", _("API")
    IMPORT = "import", _("Import")


# Semantic keys a rule compares. Which keys each (checked object, compared object) pair offers, and the
# column each key reads, live in services.FIELD_MAP.
class MatchField(models.TextChoices):
    COMPANY = "company", _("Company name")
    PERSON = "person", _("Person name")
    PHONE = "phone", _("Phone")
    MOBILE = "mobile", _("Mobile")
    EMAIL = "email", _("E-mail")
    CREDIT_CODE = "credit_code", _("Unified social credit code")
    CUSTOMER = "customer", _("Same customer")


class DuplicateRule(ChangeLoggedModel):
    """One rule: its fields are combined with AND (each exact, or fuzzy with a 0-100 threshold); the active
    rules of an object are combined with OR. The action (warn or block) is chosen per entry point.

    `object_type` is what is being saved; `target_type` what it is compared with (a lead's company against
    existing customers is 撞单 too)."""

    permission_module = "settings"

    name = models.CharField(_("name"), max_length=100)
    object_type = models.CharField(_("checked object"), max_length=20, choices=ObjectType.choices)
    target_type = models.CharField(
        _("compared with"), max_length=20, choices=ObjectType.choices,
        help_text=_("Existing records of this kind are searched (usually the same kind)."),
    )
    # [{"field": "company", "match": "fuzzy", "threshold": 90}, {"field": "phone", "match": "exact"}]
    conditions = models.JSONField(_("fields"), default=list)
    form_action = models.CharField(_("on the form"), max_length=10, choices=RuleAction.choices, default=RuleAction.WARN)
    api_action = models.CharField(_("through the API"), max_length=10, choices=RuleAction.choices, default=RuleAction.WARN)
    import_action = models.CharField(_("on import"), max_length=10, choices=RuleAction.choices, default=RuleAction.BLOCK)
    is_active = models.BooleanField(_("active"), default=True)
    order = models.IntegerField(_("order"), default=100)
    code = models.CharField(_("code"), max_length=50, blank=True, help_text=_("Stable key of a built-in rule."))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("duplicate rule")
        verbose_name_plural = _("duplicate rules")
        ordering = ["object_type", "order", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("duplicates:rule_edit", args=[self.pk])

    def action_for(self, entry_point: str) -> str:
        return {
            EntryPoint.FORM: self.form_action, EntryPoint.API: self.api_action, EntryPoint.IMPORT: self.import_action,
        }.get(entry_point, self.api_action)

    def clean(self):
        super().clean()
        if self.object_type and self.target_type:
            self.conditions = validate_conditions(self.object_type, self.target_type, self.conditions)

    @property
    def conditions_display(self) -> str:
        labels = dict(MatchField.choices)
        parts = []
        for c in self.conditions or []:
            label = str(labels.get(c.get("field"), c.get("field")))
            if c.get("match") == MatchKind.FUZZY:
                parts.append(f"{label} ≈ {c.get('threshold', 80)}%")
            else:
                parts.append(f"{label} =")
        return " + ".join(parts)


class TransferStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    CANCELLED = "cancelled", _("Cancelled")


class TransferRequestQuerySet(ScopedQuerySet):
    def visible_to(self, user, action: str = "view"):
        """A request is visible to its requester, the record's current owner, and those who may decide it:
        administrators, managers of the owner's department (or a parent of it), and users holding the
        transfer permission on the record's module with a scope covering that department."""
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        perms = get_permissions(user)
        if perms.is_admin:
            return self
        return self.filter(deciders_q(user) | models.Q(requester=user) | models.Q(current_owner=user))

    def decidable_by(self, user):
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if get_permissions(user).is_admin:
            return self
        return self.filter(deciders_q(user))


MODULE_OF = {"customer": "customers", "lead": "leads"}


def managed_department_ids(user) -> list[int]:
    ids: set[int] = set()
    for dept in Department.objects.filter(manager=user):
        ids.update(dept.descendant_ids(include_self=True))
    return sorted(ids)


def deciders_q(user) -> models.Q:
    """Requests `user` may approve or refuse (not counting administrators, who may decide all)."""
    q = models.Q(pk__in=[])
    managed = managed_department_ids(user)
    if managed:
        q |= models.Q(department_id__in=managed)
    perms = get_permissions(user)
    for object_type, module in MODULE_OF.items():
        if not perms.has(module, "transfer"):
            continue
        scope = perms.scope(module)
        if scope == "all":
            q |= models.Q(object_type=object_type)
        else:
            depts = department_ids_for(user, scope)
            if depts:
                q |= models.Q(object_type=object_type, department_id__in=depts)
    return q


class TransferRequest(BusinessModel):
    """A rep asks for a record another rep holds (from a duplicate hit); the owner's manager decides."""

    permission_module = "customers"

    object_type = models.CharField(_("object"), max_length=20, choices=[(ObjectType.CUSTOMER, _("Customer")), (ObjectType.LEAD, _("Lead"))])
    object_id = models.BigIntegerField(_("record id"))
    object_repr = models.CharField(_("record"), max_length=200, blank=True)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.CASCADE, related_name="transfer_requests"
    )
    current_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("current owner"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    department = models.ForeignKey(
        "org.Department", verbose_name=_("owner's department"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=20, choices=TransferStatus.choices, default=TransferStatus.PENDING)
    reason = models.TextField(_("reason"), max_length=1000)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.TextField(_("decision note"), max_length=1000, blank=True)

    objects = TransferRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("transfer request")
        verbose_name_plural = _("transfer requests")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "-id"], name="xfer_status_idx"),
            models.Index(fields=["object_type", "object_id"], name="xfer_object_idx"),
            models.Index(fields=["requester", "-id"], name="xfer_requester_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["object_type", "object_id", "requester"], condition=models.Q(status="pending"),
                name="xfer_one_pending", violation_error_message=_("You already have a pending request for this record."),
            ),
        ]

    def __str__(self):
        return f"{self.get_object_type_display()} {self.object_repr or self.object_id}"

    def get_absolute_url(self):
        return reverse("duplicates:transfer_detail", args=[self.pk])

    def clean(self):
        super().clean()
        if self.reason is not None and not self.reason.strip():
            raise ValidationError({"reason": [_("Give a reason.")]})


class MergeRecord(models.Model):
    """A record merged away into a survivor: its old id keeps redirecting there."""

    object_type = models.CharField(_("object"), max_length=20, choices=ObjectType.choices)
    old_id = models.BigIntegerField(_("merged-away id"))
    survivor_id = models.BigIntegerField(_("survivor id"))
    old_repr = models.CharField(_("merged-away record"), max_length=200, blank=True)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("merged by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    merged_at = models.DateTimeField(_("merged at"), auto_now_add=True)
    # {field: value} of the merged-away record as it was, for the audit.
    snapshot = models.JSONField(_("merged-away values"), default=dict, blank=True)

    class Meta:
        verbose_name = _("merge record")
        verbose_name_plural = _("merge records")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["object_type", "old_id"], name="merge_old_unique")]

    def __str__(self):
        return f"{self.object_type} {self.old_id} → {self.survivor_id}"
