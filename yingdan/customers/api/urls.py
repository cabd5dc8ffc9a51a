from .views import ContactViewSet, CustomerViewSet


def register(router) -> None:
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("customers", CustomerViewSet, basename="customer")
    router.register("contacts", ContactViewSet, basename="contact")
