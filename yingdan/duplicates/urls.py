from django.urls import path

from . import views

app_name = "duplicates"
urlpatterns = [
    path("rules/", views.DuplicateRuleListView.as_view(), name="rule_list"),
    path("rules/add/", views.DuplicateRuleEditView.as_view(), name="rule_add"),
    path("rules/<int:pk>/", views.DuplicateRuleEditView.as_view(), name="rule_edit"),
    path("rules/<int:pk>/delete/", views.DuplicateRuleDeleteView.as_view(), name="rule_delete"),
    path("live/", views.LiveCheckView.as_view(), name="live_check"),
    path("find/<str:object_type>/<int:pk>/", views.FindDuplicatesView.as_view(), name="find"),
    path("merge/<str:object_type>/<int:pk>/<int:other_pk>/", views.MergeView.as_view(), name="merge"),
    path("transfers/", views.TransferRequestListView.as_view(), name="transfer_list"),
    path("transfers/add/", views.TransferRequestCreateView.as_view(), name="transfer_add"),
    path("transfers/<int:pk>/", views.TransferRequestDetailView.as_view(), name="transfer_detail"),
]
