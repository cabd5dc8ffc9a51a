"""`Idempotency-Key` on POST: the first response to (user, key) is kept for 24 hours in the Django cache.
The same key with the same body replays that response (header `Idempotent-Replayed: true`); the same key with a
different body is refused with 422 (`idempotency_key_mismatch`). Server errors are not stored (a retry runs)."""

from __future__ import annotations

import hashlib
import json

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.response import Response

HEADER = "Idempotency-Key"
TTL = 24 * 3600
MAX_KEY_LENGTH = 255


class IdempotencyMismatch(exceptions.APIException):
    status_code = 422
    default_detail = _("This Idempotency-Key was used with a different request body.")
    default_code = "idempotency_key_mismatch"


class InvalidIdempotencyKey(exceptions.APIException):
    status_code = 400
    default_detail = _("The Idempotency-Key header must be 1 to 255 characters.")
    default_code = "invalid_idempotency_key"


class Replay(Exception):
    def __init__(self, response):
        self.response = response


def request_key(request):
    if request.method != "POST":
        return None
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise InvalidIdempotencyKey()
    user = getattr(request, "user", None)
    ident = user.pk if user is not None and user.is_authenticated else "anon"
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"idem:{ident}:{request.path}:{digest}"


def body_hash(request) -> str:
    try:
        data = request.data
    except Exception:  # noqa: BLE001 — unparseable bodies are refused later by the view itself
        data = None
    payload = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def check(request):
    """Called after authentication: raises Replay(response) or IdempotencyMismatch; returns the cache key."""
    key = request_key(request)
    if key is None:
        return None
    stored = cache.get(key)
    request._idempotency = (key, body_hash(request))
    if stored is None:
        return key
    if stored["hash"] != request._idempotency[1]:
        raise IdempotencyMismatch()
    response = Response(stored["data"], status=stored["status"])
    response["Idempotent-Replayed"] = "true"
    if stored.get("location"):
        response["Location"] = stored["location"]
    raise Replay(response)


def store(request, response):
    info = getattr(request, "_idempotency", None)
    if info is None or response.status_code >= 500 or response.status_code == 422:
        return
    key, digest = info
    data = getattr(response, "data", None)
    cache.set(key, {"hash": digest, "status": response.status_code, "data": data, "location": response.get("Location")}, TTL)
