"""Per-process cache of what every API request used to recompute: a token user's effective permissions and
department tree (3 queries), the custom-field definitions of a model (1 query) and the rows of small
reference tables such as the lookup lists (1 query).

Entries are keyed by a *version* kept in the shared cache (Redis in production, so every web node and the
worker agree). Any change of a role, of a user's roles, of a department or of a custom-field definition
(or of a cached table's row) bumps the version (signals, connected in `OrgConfig.ready`; again after commit, so no process caches the
old rows under the new version), which makes every process recompute on its next request. The user's own
row (department, superuser, active) is read with the token on every request and is part of the key.
Entries also expire after `TTL` seconds, for changes made without signals (raw SQL, `update()` elsewhere).
The compiled SQL of a scoped read (api/prepared.py) is keyed by `authz_key(user)`, i.e. by the very
permissions entry it was built from.
"""

from __future__ import annotations

import itertools
import time
import uuid

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction

VERSION_KEY = "yingdan:api:config-version"
TTL = 60.0
MAX_ENTRIES = 5000

_entries: dict[tuple, tuple[float, object]] = {}
_stamps = itertools.count(1)


_redis_clients: dict[int, object] = {}


def redis_client(backend, *, write: bool = False):
    """What `backend._cache.get_client(write=write)` returns for Django's RedisCache, without building a new
    `redis.Redis` on every call (each copies some 170 response callbacks): one client per connection pool."""
    pool = backend._cache._get_connection_pool(write)
    client = _redis_clients.get(id(pool))
    if client is None or client.connection_pool is not pool:
        client = _redis_clients[id(pool)] = backend._cache._client(connection_pool=pool)
    return client


def _cached_value(key: str):
    """`cache.get(key)`, through the re-used client on Redis (read on every API request)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        full = backend.make_and_validate_key(key)
        value = redis_client(backend).get(full)
        return None if value is None else backend._cache._serializer.loads(value)
    return cache.get(key)


def current_version() -> str:
    version = _cached_value(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        if not cache.add(VERSION_KEY, version, None):
            version = cache.get(VERSION_KEY) or version
    return version


def request_version(request) -> str:
    """The version, read once per request."""
    holder = getattr(request, "_request", request)
    version = getattr(holder, "_yingdan_config_version", None)
    if version is None:
        version = holder._yingdan_config_version = current_version()
    return version


def get_or_compute(key: tuple, compute):
    now = time.monotonic()
    hit = _entries.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = compute()
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()
    _entries[key] = (now + TTL, value)
    return value


def bump() -> None:
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)
    _entries.clear()


def changed(**kwargs) -> None:
    """Signal receiver: a role, a user's roles, a department or a custom field changed."""
    bump()
    transaction.on_commit(bump)


def user_authz(user, request) -> None:
    """Attach the cached permissions and department tree to a freshly loaded `user` (what
    `core.permissions.get_permissions` and `core.models.base.department_ids_for` read first)."""
    from ..permissions import compute

    def load():
        tree = user.department.descendant_ids(include_self=True) if user.department_id else []
        return compute(user), tree, next(_stamps)

    key = ("authz", request_version(request), user.pk, user.department_id, user.is_superuser, user.is_active)
    perms, tree, stamp = get_or_compute(key, load)
    user._yingdan_perms = perms
    user._yingdan_dept_tree = list(tree)
    # Names this computation: whatever was built from these permissions and this tree (a compiled scoped
    # query, api/prepared.py) is keyed by it, so it never outlives them.
    user._yingdan_authz = ((*key, stamp), perms)


def authz_key(user) -> tuple | None:
    """The key of the cached permissions `user_authz` attached to `user`; None if it did not, or if they
    were dropped since (`permissions.clear_cache`)."""
    attached = getattr(user, "_yingdan_authz", None)
    if attached is None or getattr(user, "_yingdan_perms", None) is not attached[1]:
        return None
    return attached[0]


def custom_field_definitions(model, request) -> list:
    key = ("custom_fields", request_version(request), model._meta.label_lower)
    return list(get_or_compute(key, model.custom_field_definitions))


# Small admin-maintained tables whose rows the API reads on every request (a customer's level, source, ...):
# read whole, once per version, by `rows_by_id`.
CACHED_TABLES = ("core.lookup",)


def rows_by_id(model, request) -> dict | None:
    """{id: row} of a CACHED_TABLES model (the same instances for every request of this version; read only),
    or None for other models."""
    label = model._meta.label_lower
    if label not in CACHED_TABLES or request is None:
        return None
    return get_or_compute(("rows", request_version(request), label), lambda: model._base_manager.in_bulk())


def connect() -> None:
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.db.models import signals

    uid = "yingdan-api-config-version"
    for label in ("org.Role", "org.Department", "core.CustomField", *CACHED_TABLES):
        model = apps.get_model(label)
        signals.post_save.connect(changed, sender=model, dispatch_uid=f"{uid}-save-{label}")
        signals.post_delete.connect(changed, sender=model, dispatch_uid=f"{uid}-delete-{label}")
    through = get_user_model().roles.through
    signals.m2m_changed.connect(changed, sender=through, dispatch_uid=f"{uid}-user-roles")
