from django.http import HttpResponse
from django.urls import path

app_name = "search"


def _global(request):  # placeholder until the search app lands
    return HttpResponse("")


urlpatterns = [path("", _global, name="global")]
