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


# -- hooks added for the customer-assets and sales-process issues --------------------------------------------
@dataclass
class TimelineEntry:
    """One item on a record's timeline (customer 360 page, lead page, ...)."""

    at: object  # aware datetime, newest first on the page
    kind: str  # "followup", "comment", "ownership", "pool", "change", "opportunity", "task", ...
    title: object
    body: str = ""  # plain text (escaped by the template) unless `template` is given
    actor: object = None  # User or None
    url: str = ""
    icon: str = "circle"  # bootstrap-icons name without "bi-"
    template: str = ""  # optional partial rendered with {"entry": entry, "object": obj}
    data: dict = field(default_factory=dict)


# model label -> [callable(obj, user, *, before=None, limit=50) -> list[TimelineEntry]]
timeline_providers: dict[str, list] = defaultdict(list)


def register_timeline_provider(model_label: str, func) -> None:
    timeline_providers[model_label].append(func)


@dataclass
class HandoverProvider:
    """A kind of record that follows its owner in a handover (离职交接): customers, leads, opportunities, tasks ...

    count(user) -> int                            how many records the leaving user holds
    ids(user) -> list[int]                        their ids, in a stable order
    transfer(actor, ids, new_owner) -> int        give those records to one user (service function, audited)
    release(actor, ids, reason) -> int | None     return them to a pool (None when the kind has no pool)
    """

    key: str
    label: object
    count: object
    ids: object
    transfer: object
    release: object = None
    order: int = 100


handover_providers: dict[str, HandoverProvider] = {}


def register_handover_provider(provider: HandoverProvider) -> None:
    handover_providers[provider.key] = provider


# model label -> [callable(actor, obj, *, entry_point: "form"|"api"|"import", confirmed: bool) -> None]
# Called by save services before saving; raises ValidationError to block (or to warn when not confirmed,
# with code "duplicate_warning"). The duplicates app registers one per checked model.
save_checks: dict[str, list] = defaultdict(list)


def register_save_check(model_label: str, func) -> None:
    save_checks[model_label].append(func)


def run_save_checks(actor, obj, *, entry_point: str | None = None, confirmed: bool = False) -> None:
    """entry_point defaults from the change context: web → "form", api → "api", import → "import", else "api"."""
    if entry_point is None:
        from .context import current

        entry_point = {"web": "form", "api": "api", "import": "import"}.get(current().source, "api")
    for func in save_checks.get(obj._meta.label_lower, ()):
        func(actor, obj, entry_point=entry_point, confirmed=confirmed)


# model label -> callable(pk) -> int | None: where a merged-away record now lives (detail views redirect there)
object_redirects: dict[str, object] = {}


def register_object_redirect(model_label: str, func) -> None:
    object_redirects[model_label] = func


# Reminder / notification kinds: key -> label. Notifications of an unknown kind are refused.
notification_kinds: dict[str, object] = {}


def register_notification_kind(key: str, label) -> None:
    notification_kinds[key] = label


# callables() that (re)create an app's default data (lists, default pipeline, ...): run by the app's data
# migration and by the test factories' ensure_defaults() after transactional tests flush the database.
default_data_loaders: list = []


def register_default_data(func) -> None:
    if func not in default_data_loaders:
        default_data_loaders.append(func)


@dataclass
class EventHandler:
    func: object  # callable(core.events.Event) -> None
    on_commit: bool = True


event_handlers: list[EventHandler] = []


def register_event_handler(func, *, on_commit: bool = True) -> None:
    """See core/events.py. Registering the same function twice replaces the first registration."""
    event_handlers[:] = [h for h in event_handlers if h.func is not func] + [EventHandler(func, on_commit)]
