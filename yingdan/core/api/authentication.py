"""`Authorization: Token <key>` with hashed, expiring, revocable, optionally read-only tokens."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from yingdan.core import context

from . import cache as api_cache
from . import prepared


class TokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            # The user's permissions and department tree from the per-process cache (api/cache.py).
            api_cache.user_authz(result[0], request)
            context.set_user(result[0])
        return result

    def authenticate_credentials(self, key):
        from yingdan.org.models import ApiToken, hash_token

        # The token with its user (`.first()`), from SQL compiled once per process (api/prepared.py).
        def build():
            return ApiToken.objects.select_related("user").filter(digest=prepared.STR_SENTINEL)[:1]

        digest = hash_token(key)
        rows = prepared.fetch(("api-token",), build, {"digest": digest}, {"digest": prepared.STR_SENTINEL})
        if rows is None:
            rows = ApiToken.objects.select_related("user").filter(digest=digest)[:1]
        token = rows[0] if rows else None
        if token is None or not token.is_valid:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            type(token).objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token
