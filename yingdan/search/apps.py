from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "yingdan.search"
    label = "search"
    verbose_name = _("Search")

    def ready(self) -> None:
        from yingdan.core import registry

        from . import signals
        from .services import default_providers

        for provider in default_providers():
            registry.register_search_provider(provider)
            registry.register_text_filter(provider.model._meta.label_lower, provider.list_filter)
        signals.connect()
