from .views import TaskViewSet


def register(router) -> None:
    router.register("tasks", TaskViewSet, basename="task")
