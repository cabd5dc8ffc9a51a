"""The URLconf API requests are resolved with: the site's own patterns with the /api/ include moved first.

Django resolves a path by walking the URLconf in order; an API path went through every page include first
(four mounted at "", walked to the end) — 24 resolver calls, about a tenth of a GET by id. No page URL
overlaps /api/ and no URL name is shared (`test_api_prepared.py` checks both), so the order changes nothing
but the walk. `ChangeContextMiddleware` sets it as `request.urlconf` for /api/ paths; reverse() during
such a request sees the same patterns, hence the same URLs.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.urls import URLResolver

_built: dict[str, object] = {}


class _ApiFirst:
    """A URLconf module stand-in (get_resolver caches resolvers by this object)."""

    def __init__(self, root: str, urlpatterns: list):
        self.root = root
        self.urlpatterns = urlpatterns

    def __repr__(self):
        return f"<API-first URLconf of {self.root}>"


def api_first_urlconf():
    """The API-first variant of settings.ROOT_URLCONF, or None when it has no top-level "api/" include."""
    root = settings.ROOT_URLCONF
    if root not in _built:
        patterns = list(getattr(import_module(root), "urlpatterns", []))
        api = [p for p in patterns if isinstance(p, URLResolver) and str(p.pattern) == "api/"]
        _built[root] = _ApiFirst(root, [*api, *(p for p in patterns if p not in api)]) if len(api) == 1 else None
    return _built[root]
