"""The UI shell: home (workbench), login/logout, own account and password (no namespace)."""

from django.urls import path

from yingdan.core.views import shell
from yingdan.org import auth_views

urlpatterns = [
    path("", shell.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", auth_views.account, name="account"),
    path("account/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
]
