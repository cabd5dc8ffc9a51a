from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "yingdan.imports"
    label = "imports"
    verbose_name = _("Imports")

    def ready(self):
        from . import importers  # noqa: F401  (registers the built-in importers)
