"""The global search: an HTMX dropdown under the top-bar box, and a full results page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .services import search

DROPDOWN_LIMIT = 5
PAGE_LIMIT = 50


@login_required
@require_GET
def global_search(request):
    q = request.GET.get("q", "").strip()
    if request.headers.get("HX-Request") == "true":
        groups = search(request.user, q, limit=DROPDOWN_LIMIT) if q else []
        return render(request, "search/_dropdown.html", {"q": q, "groups": groups, "total": _total(groups)})
    groups = search(request.user, q, limit=PAGE_LIMIT) if q else []
    return render(request, "search/results.html", {"q": q, "groups": groups, "total": _total(groups)})


def _total(groups) -> int:
    return sum(len(g.hits) for g in groups)
