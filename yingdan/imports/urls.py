from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.job_list, name="job_list"),
    path("new/", views.upload, name="upload"),
    path("template/<str:object_type>/", views.template, name="template"),
    path("<int:pk>/", views.job_detail, name="job_detail"),
    path("<int:pk>/map/", views.job_map, name="job_map"),
    path("<int:pk>/run/", views.job_run, name="job_run"),
    path("<int:pk>/undo/", views.job_undo, name="job_undo"),
    path("<int:pk>/errors/", views.job_errors, name="job_errors"),
]
