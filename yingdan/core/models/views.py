from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SavedView(models.Model):
    """A user's saved list view: its filters (query string), columns and ordering."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="saved_views")
    list_key = models.CharField(_("list"), max_length=100)
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(_("filters"), max_length=2000, blank=True)
    columns = models.JSONField(_("columns"), default=list, blank=True)
    is_default = models.BooleanField(_("default view"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["list_key", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "list_key", "name"], name="core_savedview_unique_name",
                violation_error_message=_("You already have a view with this name."),
            )
        ]

    def __str__(self):
        return self.name
