from django.urls import path

from . import views

app_name = "tasks"
urlpatterns = [
    path("", views.MyTaskListView.as_view(), name="my_tasks"),
    path("team/", views.TaskListView.as_view(), name="task_list"),
    path("calendar/", views.CalendarView.as_view(), name="calendar"),
    path("add/", views.TaskEditView.as_view(), name="task_add"),
    path("bulk/reassign/", views.TaskBulkReassignView.as_view(), name="task_bulk_reassign"),
    path("bulk/delete/", views.TaskBulkDeleteView.as_view(), name="task_bulk_delete"),
    path("<int:pk>/", views.TaskDetailView.as_view(), name="task_detail"),
    path("<int:pk>/edit/", views.TaskEditView.as_view(), name="task_edit"),
    path("<int:pk>/delete/", views.TaskDeleteView.as_view(), name="task_delete"),
    path("<int:pk>/status/", views.TaskStatusView.as_view(), name="task_status"),
    path("<int:pk>/reschedule/", views.TaskRescheduleView.as_view(), name="task_reschedule"),
]
