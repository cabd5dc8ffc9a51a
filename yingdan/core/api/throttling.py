"""Rate limiting per API token (session users per user, anonymous callers per address), in the Django cache.

The rate is the setting (or environment variable) `API_RATE_LIMIT`, e.g. "6000/minute"; empty or "off"
disables it. Every response of the base viewsets carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
`X-RateLimit-Reset` (seconds until the window resets); over the limit → 429 with `Retry-After`.
"""

from __future__ import annotations

import os
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import BaseThrottle

from . import cache as api_cache

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
DEFAULT_RATE = "6000/minute"


def parse_rate(rate: str | None):
    if not rate or str(rate).lower() in ("off", "none", "0"):
        return None
    count, _slash, period = str(rate).partition("/")
    return int(count), PERIODS.get(period.strip().lower(), 60)


def current_rate():
    return parse_rate(getattr(settings, "API_RATE_LIMIT", None) or os.environ.get("API_RATE_LIMIT", DEFAULT_RATE))


def count(key: str, timeout: int) -> int:
    """Add one to the counter `key` (created with `timeout`) and return it. On Redis one round trip (SET NX
    EX + INCR in a pipeline) instead of Django's add + exists + incr (three, on every API request)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        full = backend.make_and_validate_key(key)
        client = api_cache.redis_client(backend, write=True)
        pipe = client.pipeline(transaction=False)
        pipe.set(full, 0, ex=timeout, nx=True)
        pipe.incr(full)
        return int(pipe.execute()[1])
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1


class TokenRateThrottle(BaseThrottle):
    """Fixed window per token: one cache counter per (identity, window)."""

    def identity(self, request) -> str:
        token = getattr(request, "auth", None)
        if token is not None and getattr(token, "pk", None):
            return f"t{token.pk}"
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"u{user.pk}"
        return f"a{self.get_ident(request)}"

    def allow_request(self, request, view):
        rate = current_rate()
        if rate is None:
            return True
        limit, period = rate
        now = time.time()
        window = int(now // period)
        key = f"ratelimit:{self.identity(request)}:{period}:{window}"
        used = count(key, period + 1)
        reset = int((window + 1) * period - now) + 1
        self._wait = reset
        request._request.ratelimit = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(limit - used, 0)),
            "X-RateLimit-Reset": str(reset),
        }
        return used <= limit

    def wait(self):
        return getattr(self, "_wait", None)


def add_headers(request, response):
    headers = getattr(getattr(request, "_request", request), "ratelimit", None)
    if headers:
        for name, value in headers.items():
            response[name] = value
    return response
