"""Registries that let domain apps plug into the platform without core importing them.

- modules: the permission modules a role grants actions, a data scope and field permissions on;
- lookup kinds: the admin-editable lists (levels, sources, ...);
- custom-field models: the business objects admins may add fields to;
- detail tabs: extra tabs on an object's detail page (timeline, opportunities, ... from later apps);
- search providers: the objects the global search covers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from .choices import Action


@dataclass
class Module:
    key: str
    label: object
    actions: tuple[str, ...] = tuple(Action.values)
    models: list = field(default_factory=list)
    order: int = 100


@dataclass
class DetailTab:
    key: str
    label: object
    template: str
    context: object = None  # callable(request, obj) -> dict
    permission: tuple[str, str] | None = None  # (module, action) needed to see the tab
    order: int = 100


modules: dict[str, Module] = {}
lookup_kinds: dict[str, object] = {}
custom_field_models: dict[str, type] = {}
detail_tabs: dict[str, list[DetailTab]] = defaultdict(list)
search_providers: list = []
# model label -> callable(text) -> Q | None: an index-backed filter for a free-text `q` on that model's lists
# (the search app registers one per searchable model). None means "no usable criterion".
text_filters: dict[str, object] = {}


def register_module(key: str, label, *, actions=None, order: int = 100) -> Module:
    module = modules.get(key) or Module(key=key, label=label, order=order)
    if actions is not None:
        module.actions = tuple(actions)
    modules[key] = module
    return module


def register_lookup_kind(key: str, label) -> None:
    lookup_kinds[key] = label


def register_custom_field_model(model) -> None:
    custom_field_models[model._meta.label_lower] = model


def register_detail_tab(model_label: str, tab: DetailTab) -> None:
    tabs = detail_tabs[model_label]
    tabs[:] = [t for t in tabs if t.key != tab.key] + [tab]
    tabs.sort(key=lambda t: t.order)


def register_search_provider(provider) -> None:
    search_providers.append(provider)


def register_text_filter(model_label: str, func) -> None:
    text_filters[model_label] = func
