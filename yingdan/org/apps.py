from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "yingdan.org"
    label = "org"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from yingdan.core import registry
        from yingdan.core.api import cache as api_cache

        api_cache.connect()  # role, user-role, department changes invalidate the API's cached permissions

        registry.register_module("users", _("Users"), actions=["view", "create", "edit", "delete", "import", "export"], order=900)
        registry.register_module("departments", _("Departments"), actions=["view", "create", "edit", "delete"], order=910)
        registry.register_module("roles", _("Roles"), actions=["view", "create", "edit", "delete"], order=920)
        registry.register_module("settings", _("System settings"), actions=["view", "edit"], order=990)
