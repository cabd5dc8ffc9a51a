from django.urls import path

from . import views

app_name = "pools"
urlpatterns = [
    path("", views.PoolListView.as_view(), name="pool_list"),
    path("add/", views.PoolEditView.as_view(), name="pool_add"),
    path("settings/", views.PoolSettingsView.as_view(), name="pool_settings"),
    path("recycling/", views.RecyclePreviewView.as_view(), name="recycle_preview"),
    path("release/<str:object_type>/<int:object_id>/", views.ReleaseView.as_view(), name="release"),
    path("<int:pk>/", views.PoolDetailView.as_view(), name="pool_detail"),
    path("<int:pk>/edit/", views.PoolEditView.as_view(), name="pool_edit"),
    path("<int:pk>/delete/", views.PoolDeleteView.as_view(), name="pool_delete"),
    path("<int:pk>/assign/", views.PoolAssignView.as_view(), name="pool_assign"),
    path("<int:pk>/records/<int:object_id>/", views.PoolRecordView.as_view(), name="pool_record"),
    path("<int:pk>/records/<int:object_id>/claim/", views.PoolClaimView.as_view(), name="pool_claim"),
]
