"""/api/v1/ — one router for every app's viewsets; OpenAPI 3 at /api/schema/, docs at /api/docs/."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from yingdan.core.api.urls import register as register_core
from yingdan.customers.api.urls import register as register_customers
from yingdan.org.api.urls import register as register_org
from yingdan.search.api import register as register_search

router = DefaultRouter()
register_core(router)
register_org(router)
register_customers(router)
register_search(router)

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]
