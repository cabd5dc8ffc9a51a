from .views import VIEWSETS


def register(router) -> None:
    """Register this app's viewsets on the /api/v1/ router: /api/v1/reports/<report>/."""
    for key, viewset in VIEWSETS.items():
        router.register(f"reports/{key}", viewset, basename=f"report-{key}")
