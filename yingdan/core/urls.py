"""core URLs. Sub-modules are owned by different concerns: the UI shell (home, account), operations
(healthz) and the generic admin pages (custom fields, lists, change log)."""

from django.urls import include, path

app_name = "core"
urlpatterns = [
    path("", include("yingdan.core.urls_admin")),
    path("", include("yingdan.core.urls_records")),
]
