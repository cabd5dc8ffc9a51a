"""The generic timeline of a record (customer 360 page, lead page, ...).

Apps register providers per model label (`registry.register_timeline_provider(label, func)`); each provider
returns at most `limit` entries older than `before`, newest first, from an index (object, time). The timeline
merges them and cuts one page; the next page starts `before` the oldest entry shown. So a page costs
(number of providers) small index range scans, however long the history is.

This module also provides the change-log provider (field and ownership changes of the record itself).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import changelog, registry
from .choices import ChangeAction, FieldAccess
from .models import ObjectChange
from .permissions import get_permissions

PAGE_SIZE = 20
TIMELINE_TEMPLATE = "core/_timeline.html"

# Derived columns refreshed by other records' saves (follow-ups); not worth a line on the timeline.
QUIET_FIELDS = {"last_contact_at", "next_followup_at", "recycle_warned_at", "updated_at"}


@dataclass
class TimelinePage:
    entries: list
    next_cursor: str | None  # ISO timestamp for `?before=`, None on the last page
    more_url: str = ""  # the next page ("load more"), empty on the last page


def parse_cursor(value) -> datetime.datetime | None:
    if not value:
        return None
    try:
        parsed = parse_datetime(str(value))
    except ValueError:
        return None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


def record(user, label: str, pk):
    """The record whose timeline `user` asks for: 404 when the kind has no timeline, the id cannot exist or the
    record is outside the user's scope; PermissionDenied without the kind's module."""
    from django.apps import apps
    from django.core.exceptions import PermissionDenied
    from django.http import Http404
    from django.shortcuts import get_object_or_404

    from .choices import Action
    from .exceptions import row_id_or_404

    if label not in registry.timeline_providers:
        raise Http404
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        raise Http404 from None
    if not get_permissions(user).has(model.permission_module, Action.VIEW):
        raise PermissionDenied
    return get_object_or_404(model.objects.visible_to(user), pk=row_id_or_404(pk))


def page(obj, user, *, before=None, limit: int = PAGE_SIZE) -> TimelinePage:
    """One page of `obj`'s timeline, newest first. Entries sharing the oldest timestamp of the page stay
    together, so none is skipped by the next page's `before`."""
    before = parse_cursor(before) if not isinstance(before, datetime.datetime) else before
    merged = []
    for provider in registry.timeline_providers.get(obj._meta.label_lower, []):
        merged.extend(provider(obj, user, before=before, limit=limit + 1))
    merged.sort(key=lambda e: e.at, reverse=True)
    if len(merged) <= limit:
        return TimelinePage(merged, None)
    boundary = merged[limit - 1].at
    entries = [e for e in merged if e.at >= boundary]
    if len(entries) == len(merged):
        return TimelinePage(entries, None)
    cursor = boundary.isoformat()
    url = reverse("core:timeline_page", args=[obj._meta.label_lower, obj.pk]) + "?" + urlencode({"before": cursor})
    return TimelinePage(entries, cursor, url)


def context(request, obj) -> dict:
    """Context of the timeline tab (registered with `registry.register_detail_tab`)."""
    result = page(obj, request.user, before=request.GET.get("before"))
    return {"timeline": result, "timeline_url": request.path}


def tab(order: int = 10, template: str = "core/_timeline_tab.html") -> registry.DetailTab:
    return registry.DetailTab(key="timeline", label=gettext_lazy("Timeline"), template=template, context=context, order=order)


# -- provider: the record's own change log -----------------------------------------------------------------
def changes_provider(obj, user, *, before=None, limit: int = PAGE_SIZE):
    """Creation, field changes and ownership changes of `obj` from ObjectChange (index: object, -time).
    Fields hidden from the user by field permissions are left out."""
    module = getattr(type(obj), "permission_module", "")
    hidden = {k for k, v in get_permissions(user).field_map(module).items() if v == FieldAccess.HIDDEN}
    qs = ObjectChange.objects.filter(content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk)
    if before is not None:
        qs = qs.filter(time__lt=before)
    rows = list(qs.select_related("user").order_by("-time", "-id")[:limit])
    out = []
    for item in changelog.describe(rows):
        change = item["change"]
        fields = {r["field"] for r in item["rows"]}
        if change.action == ChangeAction.UPDATE and fields and fields <= QUIET_FIELDS | hidden:
            continue
        rows_shown = [r for r in item["rows"] if r["field"] not in hidden and r["field"] not in QUIET_FIELDS]
        owner_row = next((r for r in rows_shown if r["field"] == "owner"), None)
        actor = change.user
        if change.action == ChangeAction.CREATE:
            entry = registry.TimelineEntry(at=change.time, kind="created", title=_("Created"), actor=actor, icon="plus-circle")
        elif change.action == ChangeAction.DELETE:
            continue
        elif owner_row is not None and change.action == ChangeAction.UPDATE:
            entry = registry.TimelineEntry(
                at=change.time, kind="ownership", title=_("Owner changed"), actor=actor, icon="person-check",
                template="core/_timeline_change.html", data={"rows": rows_shown, "source": change.get_source_display()},
            )
        else:
            entry = registry.TimelineEntry(
                at=change.time, kind="change", title=_("Fields changed"), actor=actor, icon="pencil-square",
                template="core/_timeline_change.html", data={"rows": rows_shown, "source": change.get_source_display()},
            )
        if entry.actor is None and change.user_name:
            entry.data["actor_name"] = change.user_name
        out.append(entry)
    return out
