from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("", views.NotificationListView.as_view(), name="notification_list"),
    path("preferences/", views.PreferencesView.as_view(), name="preferences"),
    path("badge/", views.BadgeView.as_view(), name="badge"),
    path("dropdown/", views.DropdownView.as_view(), name="dropdown"),
    path("read-all/", views.MarkAllReadView.as_view(), name="mark_all_read"),
    path("<int:pk>/open/", views.OpenView.as_view(), name="open"),
    path("<int:pk>/read/", views.MarkReadView.as_view(), name="mark_read"),
]
