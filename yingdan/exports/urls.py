from django.urls import path

from . import views

app_name = "exports"

urlpatterns = [
    path("", views.ExportListView.as_view(), name="export_list"),
    path("new/", views.ExportView.as_view(), name="export_new"),
    path("<int:pk>/download/", views.ExportDownloadView.as_view(), name="export_download"),
]
