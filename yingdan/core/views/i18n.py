from django.conf import settings
from django.contrib.auth import get_user_model
from django.views.i18n import set_language as django_set_language


def set_language(request):
    """Django's set_language, and the choice is remembered on the user (applied again at the next login)."""
    response = django_set_language(request)
    code = request.POST.get("language")
    user = getattr(request, "user", None)
    if request.method == "POST" and user is not None and user.is_authenticated and code in dict(settings.LANGUAGES):
        if user.language != code:
            get_user_model().objects.filter(pk=user.pk).update(language=code)
    return response
