from .views import ImportJobViewSet


def register(router) -> None:
    router.register("imports", ImportJobViewSet, basename="import")
