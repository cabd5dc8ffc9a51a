"""Log in (username or mobile, throttled), log out (POST only), own account and password change."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .forms_auth import AccountForm, LoginForm

log = logging.getLogger("yingdan.auth")


def apply_language(response, language: str):
    """Make `language` the UI language from the next request on (Django's language cookie)."""
    if language and language in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)  # logs in; Django rotates the session key
        language = getattr(form.get_user(), "language", "")
        if language:
            translation.activate(language)
            apply_language(response, language)
        return response


class LogoutView(auth_views.LogoutView):
    """Django's LogoutView answers 405 to GET: logging out is a POST with a CSRF token."""

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            log.info("logout user=%s ip=%s", request.user.pk, request.META.get("REMOTE_ADDR", ""))
        return super().post(request, *args, **kwargs)


@login_required
@require_http_methods(["GET", "POST"])
def account(request):
    """The signed-in user's own profile; nobody else's data is reachable here."""
    user = request.user
    if request.method == "POST":
        form = AccountForm(request.POST, instance=user)
        if form.is_valid():
            with transaction.atomic():
                form.save()
            log.info("profile updated user=%s fields=%s", user.pk, ",".join(form.changed_data))
            response = redirect("account")
            if "language" in form.changed_data and user.language:
                translation.activate(user.language)
                apply_language(response, user.language)
            messages.success(request, _("Your profile was saved."))
            return response
    else:
        form = AccountForm(instance=user)
    context = {"form": form, "roles": list(user.roles.all()), "department": user.department}
    return render(request, "registration/account.html", context)


@method_decorator(login_required, name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    """Change the own password; the session stays valid (Django updates the session auth hash)."""

    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("account")

    def form_valid(self, form):
        response = super().form_valid(form)
        log.info("password changed user=%s", self.request.user.pk)
        messages.success(self.request, _("Your password was changed."))
        return response
