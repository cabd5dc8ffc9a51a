from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from yingdan.core.views.i18n import set_language

urlpatterns = [
    path("", include("yingdan.urls_shell")),  # home, login/logout, account (no namespace)
    path("", include("yingdan.urls_ops")),  # /healthz (no namespace)
    path("", include("yingdan.core.urls")),
    path("", include("yingdan.org.urls")),
    path("customers/", include("yingdan.customers.urls")),
    path("search/", include("yingdan.search.urls")),
    path("leads/", include("yingdan.leads.urls")),
    path("followups/", include("yingdan.followups.urls")),
    path("pools/", include("yingdan.pools.urls")),
    path("duplicates/", include("yingdan.duplicates.urls")),
    path("handover/", include("yingdan.handover.urls")),
    path("notifications/", include("yingdan.notifications.urls")),
    path("opportunities/", include("yingdan.opportunities.urls")),
    path("reports/", include("yingdan.reports.urls")),
    path("exports/", include("yingdan.exports.urls")),
    path("tasks/", include("yingdan.tasks.urls")),
    path("imports/", include("yingdan.imports.urls")),
    path("integrations/", include("yingdan.integrations.urls")),
    path("automation/", include("yingdan.automation.urls")),
    path("api/", include("yingdan.api_urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
