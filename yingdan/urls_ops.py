"""Operations endpoints (no namespace, no login): the health check for load balancers and monitoring."""

from django.urls import path

from yingdan.core.views.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
]
