"""The next page of a record's timeline ("load more"), for any model with timeline providers."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views import View

from .. import registry, timeline
from ..choices import Action
from ..permissions import get_permissions


class TimelinePageView(LoginRequiredMixin, View):
    def get(self, request, label, pk):
        if label not in registry.timeline_providers:
            raise Http404
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError):
            raise Http404 from None
        if not get_permissions(request.user).has(model.permission_module, Action.VIEW):
            raise PermissionDenied
        obj = get_object_or_404(model.objects.visible_to(request.user), pk=pk)
        result = timeline.page(obj, request.user, before=request.GET.get("before"))
        return render(request, "core/_timeline_entries.html", {"timeline": result, "object": obj})
