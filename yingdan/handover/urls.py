from django.urls import path

from . import views

app_name = "handover"
urlpatterns = [
    path("", views.HandoverRecordListView.as_view(), name="handover_list"),
    path("new/", views.HandoverWizardView.as_view(), name="handover_add"),
    path("<int:pk>/", views.HandoverRecordDetailView.as_view(), name="handover_detail"),
]
