"""Login throttling, per account and per client IP, kept in Django's cache (shared by all web nodes).

After `LOGIN_MAX_FAILURES` failed logins for one account within `LOGIN_FAILURE_WINDOW` seconds, the account is
locked for `LOGIN_LOCK_SECONDS`; separately, after `LOGIN_IP_MAX_FAILURES` failures from one IP within the
window, that IP is locked for the same time. While locked, even the right password is refused.

The account key is the user's id when the typed identifier (username or mobile) resolves to one user, else a
hash of the identifier — so unknown names are throttled exactly like real ones (no account enumeration).
Time comes from `now()` so tests can move the clock; lock expiry is compared against it, not left to the cache.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import ngettext

from yingdan.core.validators import normalize_phone

PREFIX = "yingdan:login"
ACCOUNT = "account"
IP = "ip"


def now() -> float:
    return time.time()


@dataclass(frozen=True)
class Lock:
    scope: str  # ACCOUNT or IP
    until: float

    @property
    def seconds_left(self) -> int:
        return max(0, math.ceil(self.until - now()))

    @property
    def minutes_left(self) -> int:
        return max(1, math.ceil(self.seconds_left / 60))

    @property
    def message(self) -> str:
        minutes = self.minutes_left
        if self.scope == IP:
            return ngettext(
                "Too many failed logins from your network address. Try again in %(minutes)d minute.",
                "Too many failed logins from your network address. Try again in %(minutes)d minutes.",
                minutes,
            ) % {"minutes": minutes}
        return ngettext(
            "Too many failed logins: this account is locked. Try again in %(minutes)d minute.",
            "Too many failed logins: this account is locked. Try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}


def client_ip(request) -> str:
    """The client's address. Behind N trusted proxies (settings.LOGIN_TRUSTED_PROXIES, default 0) the
    N-th address from the right of X-Forwarded-For is used; otherwise REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    proxies = int(getattr(settings, "LOGIN_TRUSTED_PROXIES", 0) or 0)
    if proxies > 0:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies][:64]
    return remote[:64]


def account_id(identifier: str) -> str:
    """A stable key for the account the identifier names (see module docstring)."""
    identifier = (identifier or "").strip()
    User = get_user_model()
    q = Q(username__iexact=identifier)
    try:
        mobile = normalize_phone(identifier)
    except ValidationError:
        mobile = ""
    if mobile:
        q |= Q(mobile=mobile)
    pks = list(User.objects.filter(q).values_list("pk", flat=True)[:2]) if identifier else []
    if len(pks) == 1:
        return f"user-{pks[0]}"
    return "name-" + hashlib.sha256(identifier.lower().encode()).hexdigest()[:32]


def _ip_id(ip: str) -> str:
    return hashlib.sha256(ip.encode()).hexdigest()[:32]


def _keys(scope: str, ident: str) -> tuple[str, str, str]:
    base = f"{PREFIX}:{scope}:{ident}"
    return f"{base}:count", f"{base}:start", f"{base}:lock"


def _lock_of(scope: str, ident: str) -> Lock | None:
    _count, _start, lock_key = _keys(scope, ident)
    until = cache.get(lock_key)
    if until is not None and float(until) > now():
        return Lock(scope, float(until))
    return None


def _fail(scope: str, ident: str, limit: int) -> Lock | None:
    """Count one failure; lock when the limit is reached within the window. Returns the new lock."""
    window = settings.LOGIN_FAILURE_WINDOW
    count_key, start_key, lock_key = _keys(scope, ident)
    current = now()
    start = cache.get(start_key)
    if start is None or current - float(start) > window:  # a new window
        cache.set(start_key, current, window + 60)
        cache.set(count_key, 0, window + 60)
    try:
        count = cache.incr(count_key)
    except ValueError:  # expired between the two calls
        cache.set(count_key, 1, window + 60)
        count = 1
    if count >= limit:
        lock_seconds = settings.LOGIN_LOCK_SECONDS
        until = current + lock_seconds
        cache.set(lock_key, until, lock_seconds + 60)
        cache.delete_many([count_key, start_key])
        return Lock(scope, until)
    return None


def _clear(scope: str, ident: str) -> None:
    cache.delete_many(list(_keys(scope, ident)))


def check(request, identifier: str) -> Lock | None:
    """The lock that currently refuses this login attempt, if any (the account's first, then the IP's)."""
    return _lock_of(ACCOUNT, account_id(identifier)) or _lock_of(IP, _ip_id(client_ip(request)))


def register_failure(request, identifier: str) -> Lock | None:
    account_lock = _fail(ACCOUNT, account_id(identifier), settings.LOGIN_MAX_FAILURES)
    ip_lock = _fail(IP, _ip_id(client_ip(request)), settings.LOGIN_IP_MAX_FAILURES)
    return account_lock or ip_lock


def register_success(request, identifier: str) -> None:
    """A successful login clears the account's failure counter (the IP counter keeps running)."""
    _clear(ACCOUNT, account_id(identifier))


def unlock_account(identifier: str) -> None:
    """Administrative unlock (e.g. from a shell or a later admin page)."""
    _clear(ACCOUNT, account_id(identifier))


def failures_left(identifier: str) -> int:
    count_key, start_key, _lock = _keys(ACCOUNT, account_id(identifier))
    start = cache.get(start_key)
    if start is None or now() - float(start) > settings.LOGIN_FAILURE_WINDOW:
        return settings.LOGIN_MAX_FAILURES
    return max(0, settings.LOGIN_MAX_FAILURES - int(cache.get(count_key) or 0))
