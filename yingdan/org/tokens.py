"""API tokens of the signed-in user: create (the key is shown once), list with last use, revoke.

Services first (used by the pages, and by anything else that issues tokens), then the views."""

from __future__ import annotations

import datetime
import logging

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from .models import ApiToken

audit = logging.getLogger("yingdan.audit")


@transaction.atomic
def create_token(user, *, name: str, read_only: bool = False, expires_at=None) -> tuple[ApiToken, str]:
    token, key = ApiToken.issue(user, name=name[:100], read_only=read_only, expires_at=expires_at)
    audit.info("api token created", extra={"actor": user.pk, "token": token.pk, "read_only": read_only})
    return token, key


@transaction.atomic
def revoke_token(user, token_id: int) -> ApiToken:
    """Only the owner revokes their token (another user's id is a 404)."""
    token = ApiToken.objects.select_for_update().filter(user=user, pk=token_id).first()
    if token is None:
        from django.http import Http404

        raise Http404
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.info("api token revoked", extra={"actor": user.pk, "token": token.pk})
    return token


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100, help_text=gettext_lazy("What the token is for, e.g. the ERP sync."))
    expires_on = forms.DateField(label=gettext_lazy("Expires on"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text=gettext_lazy("Empty: never expires."))
    read_only = forms.BooleanField(label=gettext_lazy("Read-only (GET only)"), required=False)

    def clean_expires_on(self):
        value = self.cleaned_data.get("expires_on")
        if value and value <= timezone.localdate():
            raise forms.ValidationError(_("The expiry date must be in the future."))
        return value

    def expires_at(self):
        value = self.cleaned_data.get("expires_on")
        if not value:
            return None
        return timezone.make_aware(datetime.datetime.combine(value, datetime.time.min))


class TokenListView(LoginRequiredMixin, View):
    template_name = "org/api_tokens.html"

    def get(self, request, form=None, new_key=None, status=200):
        tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at")
        return render(request, self.template_name, {"tokens": tokens, "form": form or TokenForm(), "new_key": new_key,
                                                    "now": timezone.now()}, status=status)

    def post(self, request):
        form = TokenForm(request.POST)
        if not form.is_valid():
            return self.get(request, form=form, status=400)
        token, key = create_token(request.user, name=form.cleaned_data["name"], read_only=form.cleaned_data["read_only"],
                                  expires_at=form.expires_at())
        messages.success(request, _("Token created. Copy it now: it will not be shown again."))
        # Rendered directly (not redirected) so the key never travels in a URL or the session.
        return self.get(request, new_key=key)


class TokenRevokeView(LoginRequiredMixin, View):
    def post(self, request, pk):
        revoke_token(request.user, pk)
        messages.success(request, _("Token revoked."))
        return redirect("org:api_tokens")
