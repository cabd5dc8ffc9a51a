from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    name = "yingdan.tasks"
    label = "tasks"
    verbose_name = _("Tasks")

    def ready(self) -> None:
        from . import hooks, reminders

        hooks.register()
        reminders.register_builtin_kinds()
