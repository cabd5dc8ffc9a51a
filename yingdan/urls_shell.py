from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import path


def _home(request):  # placeholder until the UI shell lands
    return HttpResponse("Yingdan")


urlpatterns = [
    path("", _home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
