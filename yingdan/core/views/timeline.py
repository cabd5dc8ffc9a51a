"""The next page of a record's timeline ("load more"), for any model with timeline providers."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import render
from django.views import View

from .. import timeline


class TimelinePageView(LoginRequiredMixin, View):
    def get(self, request, label, pk):
        obj = timeline.record(request.user, label, pk)
        result = timeline.page(obj, request.user, before=request.GET.get("before"))
        return render(request, "core/_timeline_entries.html", {"timeline": result, "object": obj})
