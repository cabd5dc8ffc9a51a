"""Forms of the authentication pages: throttled login (username or mobile), own profile."""

from __future__ import annotations

import logging

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import throttle
from .models import User

log = logging.getLogger("yingdan.auth")


def _audit(result: str, identifier: str, ip: str, user=None) -> None:
    """One line per authentication decision on the `yingdan.auth` logger: result, login, user, ip."""
    level = logging.INFO if result == "success" else logging.WARNING
    log.log(
        level,
        "login result=%s login=%r user=%s ip=%s",
        result,
        identifier[:150],
        user.pk if user else "-",
        ip,
        extra={
            "auth_result": result,
            "auth_login": identifier[:150],
            "auth_user": user.pk if user else None,
            "auth_ip": ip,
        },
    )


class LoginForm(AuthenticationForm):
    """Username OR mobile phone + password; refused while the account or the client IP is locked."""

    username = forms.CharField(
        label=_("Username or mobile"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        "invalid_login": _("Incorrect username/mobile or password."),
        "inactive": _("This account is inactive."),
        "locked": "%(message)s",
    }

    def clean(self):
        identifier = (self.cleaned_data.get("username") or "").strip()
        password = self.cleaned_data.get("password")
        if not identifier or password is None:
            return self.cleaned_data
        ip = throttle.client_ip(self.request) if self.request else "unknown"
        lock = throttle.check(self.request, identifier)
        if lock is not None:
            _audit(f"refused-{lock.scope}-locked", identifier, ip)
            raise ValidationError(
                self.error_messages["locked"], code="locked", params={"message": lock.message}
            )
        self.user_cache = authenticate(self.request, username=identifier, password=password)
        if self.user_cache is None:
            lock = throttle.register_failure(self.request, identifier)
            _audit(f"failed-now-{lock.scope}-locked" if lock else "failed", identifier, ip)
            if lock is not None:
                raise ValidationError(
                    self.error_messages["locked"], code="locked", params={"message": lock.message}
                )
            raise self.get_invalid_login_error()
        self.confirm_login_allowed(self.user_cache)
        throttle.register_success(self.request, identifier)
        _audit("success", identifier, ip, self.user_cache)
        return self.cleaned_data

    def get_invalid_login_error(self):
        return ValidationError(self.error_messages["invalid_login"], code="invalid_login")


class AccountForm(forms.ModelForm):
    """The signed-in user's own profile: name, mobile, preferred language."""

    class Meta:
        model = User
        fields = ["name", "mobile", "language"]
        widgets = {
            "mobile": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("Browser default"))] + list(
            User._meta.get_field("language").choices
        )

    def clean_mobile(self):
        return (self.cleaned_data.get("mobile") or "").strip() or None
