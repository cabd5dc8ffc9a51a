from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .base import ChangeLoggedModel, ScopedQuerySet


class LookupQuerySet(ScopedQuerySet):
    def of(self, kind: str):
        return self.filter(kind=kind)

    def active(self):
        return self.filter(is_active=True)


class Lookup(ChangeLoggedModel):
    """An admin-editable list entry: customer level, status, industry, source, and later kinds.

    Entries are deactivated rather than deleted while records use them (FKs are PROTECT).
    """

    kind = models.CharField(_("list"), max_length=50, db_index=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    code = models.CharField(_("code"), max_length=50, blank=True, help_text=_("Optional stable key for integrations."))
    color = models.CharField(_("colour"), max_length=20, blank=True)
    order = models.IntegerField(_("order"), default=100)
    is_default = models.BooleanField(_("default"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    extra = models.JSONField(_("settings"), default=dict, blank=True)

    objects = LookupQuerySet.as_manager()
    permission_module = "settings"

    class Meta:
        verbose_name = _("list entry")
        verbose_name_plural = _("list entries")
        ordering = ["kind", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "name"], name="core_lookup_unique_name",
                violation_error_message=_("This list already has an entry with this name."),
            )
        ]

    def __str__(self):
        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("core:lookup_edit", args=[self.pk])

    @classmethod
    def scope_q(cls, user, scope, prefix=""):
        return models.Q()


class Tag(ChangeLoggedModel):
    name = models.CharField(_("name"), max_length=50, unique=True)
    color = models.CharField(_("colour"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self):
        return self.name
