from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

urlpatterns = [
    path("", include("yingdan.urls_shell")),  # home, login/logout, account (no namespace)
    path("", include("yingdan.urls_ops")),  # /healthz (no namespace)
    path("", include("yingdan.core.urls")),
    path("", include("yingdan.org.urls")),
    path("customers/", include("yingdan.customers.urls")),
    path("search/", include("yingdan.search.urls")),
    path("api/", include("yingdan.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
