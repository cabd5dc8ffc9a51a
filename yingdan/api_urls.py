"""/api/v1/ — one router for every app's viewsets; OpenAPI 3 at /api/schema/, docs at /api/docs/."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from yingdan.automation.api import register as register_automation
from yingdan.core.api.urls import register as register_core
from yingdan.customers.api.urls import register as register_customers
from yingdan.duplicates.api.urls import register as register_duplicates
from yingdan.exports.api import register as register_exports
from yingdan.followups.api.urls import register as register_followups
from yingdan.handover.api.urls import register as register_handover
from yingdan.imports.api.urls import register as register_imports
from yingdan.integrations.api import register as register_integrations
from yingdan.leads.api.urls import register as register_leads
from yingdan.notifications.api.urls import register as register_notifications
from yingdan.opportunities.api.urls import register as register_opportunities
from yingdan.org.api.urls import register as register_org
from yingdan.pools.api.urls import register as register_pools
from yingdan.reports.api.urls import register as register_reports
from yingdan.search.api import register as register_search
from yingdan.tasks.api.urls import register as register_tasks

router = DefaultRouter()
register_core(router)
register_org(router)
register_customers(router)
register_search(router)
register_notifications(router)
register_pools(router)
register_leads(router)
register_followups(router)
register_duplicates(router)
register_handover(router)
register_opportunities(router)
register_reports(router)
register_imports(router)
register_exports(router)
register_tasks(router)
register_integrations(router)
register_automation(router)

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]
