"""The notification center: the bell's badge (polled) and dropdown, the full list, opening and marking read.
A user only ever reaches their own notifications: every query starts from `services.for_user()`."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views import View

from yingdan.core import registry
from yingdan.core.views.generic import CappedPaginator, is_htmx, is_local_url

from . import services
from .filtersets import SORT_CHOICES, NotificationFilterSet

DROPDOWN_SIZE = 10
PAGE_SIZE = 25
CHANGED_EVENT = "notifications-changed"

KIND_ICONS = {
    "handover": "box-arrow-in-right", "mention": "at", "followup_comment": "chat-left-text",
    "system": "info-circle", "transfer_request": "arrow-left-right",
}


def decorate(notes):
    for note in notes:
        note.kind_label = registry.notification_kinds.get(note.kind, note.kind)
        note.icon = KIND_ICONS.get(note.kind, "bell")
    return notes


def fragment(template: str, context: dict) -> HttpResponse:
    """A partial rendered without the request: the shell's context processors (navigation, permissions)
    would cost more than the polled fragment itself."""
    return HttpResponse(render_to_string(template, context))


class BadgeView(LoginRequiredMixin, View):
    """The unread count in the bell (HTMX polls it; one indexed, capped COUNT)."""

    def get(self, request):
        count, capped = services.unread_badge(request.user)
        return fragment("notifications/_badge.html", {"unread": count, "capped": capped})


class DropdownView(LoginRequiredMixin, View):
    def get(self, request):
        notes = decorate(list(services.for_user(request.user).select_related("actor")[:DROPDOWN_SIZE]))
        count, capped = services.unread_badge(request.user)
        return fragment("notifications/_dropdown.html", {"notes": notes, "unread": count, "capped": capped})


class NotificationListView(LoginRequiredMixin, View):
    template_name = "notifications/notification_list.html"

    def get(self, request):
        qs = services.for_user(request.user).select_related("actor")
        filterset = NotificationFilterSet(request.GET, qs)
        qs = filterset.qs if filterset.is_valid() else qs.none()
        sort = request.GET.get("sort")
        if sort not in dict(SORT_CHOICES):
            sort = "-id"
        qs = qs.order_by(sort)
        paginator = CappedPaginator(qs, PAGE_SIZE)
        page = paginator.page(request.GET.get("page", 1))
        params = request.GET.copy()
        params.pop("page", None)
        count, capped = services.unread_badge(request.user)
        context = {
            "filterset": filterset, "page": page, "paginator": paginator, "notes": decorate(list(page.object_list)),
            "query": params.urlencode(), "sort": sort, "sort_choices": SORT_CHOICES,
            "unread": count, "unread_capped": capped,
        }
        if is_htmx(request) and request.headers.get("HX-Target") == "notification-list":
            return render(request, "notifications/_list.html", context)
        return render(request, self.template_name, context)


class OpenView(LoginRequiredMixin, View):
    """Opening a notification marks it read and goes to its record (same-site links only)."""

    def get(self, request, pk):
        note = get_object_or_404(services.for_user(request.user), pk=pk)
        services.mark_read(request.user, [note.pk])
        if note.url and is_local_url(note.url):
            return HttpResponseRedirect(note.url)
        return HttpResponseRedirect(reverse("notifications:notification_list"))


def _changed(request, fallback: str):
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Trigger"] = CHANGED_EVENT
        return response
    next_url = request.POST.get("next", "")
    return HttpResponseRedirect(next_url if is_local_url(next_url) else fallback)


class MarkReadView(LoginRequiredMixin, View):
    def post(self, request, pk):
        note = get_object_or_404(services.for_user(request.user), pk=pk)
        services.mark_read(request.user, [note.pk])
        return _changed(request, reverse("notifications:notification_list"))


class MarkAllReadView(LoginRequiredMixin, View):
    def post(self, request):
        services.mark_all_read(request.user)
        return _changed(request, reverse("notifications:notification_list"))


class PreferencesView(LoginRequiredMixin, View):
    """The user's own channels per kind (in-app, e-mail) and quiet hours."""

    template = "notifications/preferences.html"

    def context(self, pref, errors=None):
        from .models import Channel

        rows = [{"key": k, "label": label, "channels": pref.channels_for(k)} for k, label in registry.notification_kinds.items()]
        return {"rows": rows, "channels": Channel.choices, "pref": pref, "errors": errors or []}

    def get(self, request):
        return render(request, self.template, self.context(services.get_preference(request.user)))

    def post(self, request):
        import datetime

        from django.contrib import messages
        from django.core.exceptions import ValidationError
        from django.utils.translation import gettext as _

        from .models import Channel

        channels = {k: [c for c in Channel.values if request.POST.get(f"{k}__{c}")] for k in registry.notification_kinds}
        errors = []
        times = {}
        for name in ("quiet_start", "quiet_end"):
            raw = (request.POST.get(name) or "").strip()
            try:
                times[name] = datetime.time.fromisoformat(raw) if raw else None
            except ValueError:
                errors.append(_("Enter a valid time (HH:MM)."))
        if not errors:
            try:
                services.save_preference(request.user, channels, times["quiet_start"], times["quiet_end"])
            except ValidationError as exc:
                errors = exc.messages
        if errors:
            pref = services.get_preference(request.user)
            return render(request, self.template, self.context(pref, errors), status=400)
        messages.success(request, _("Preferences saved."))
        return HttpResponseRedirect(reverse("notifications:preferences"))
