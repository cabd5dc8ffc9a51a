from django.urls import path

from . import views

app_name = "leads"
urlpatterns = [
    path("", views.LeadListView.as_view(), name="lead_list"),
    path("add/", views.LeadEditView.as_view(), name="lead_add"),
    path("bulk/edit/", views.LeadBulkEditView.as_view(), name="lead_bulk_edit"),
    path("bulk/transfer/", views.LeadBulkTransferView.as_view(), name="lead_bulk_transfer"),
    path("bulk/assign/", views.LeadBulkAssignView.as_view(), name="lead_bulk_assign"),
    path("bulk/delete/", views.LeadBulkDeleteView.as_view(), name="lead_bulk_delete"),
    path("<int:pk>/", views.LeadDetailView.as_view(), name="lead_detail"),
    path("<int:pk>/edit/", views.LeadEditView.as_view(), name="lead_edit"),
    path("<int:pk>/delete/", views.LeadDeleteView.as_view(), name="lead_delete"),
    path("<int:pk>/convert/", views.LeadConvertView.as_view(), name="lead_convert"),
    path("assignment-rules/", views.AssignmentRuleListView.as_view(), name="assignment_list"),
    path("assignment-rules/add/", views.AssignmentRuleEditView.as_view(), name="assignment_add"),
    path("assignment-rules/<int:pk>/", views.AssignmentRuleEditView.as_view(), name="assignment_edit"),
    path("assignment-rules/<int:pk>/delete/", views.AssignmentRuleDeleteView.as_view(), name="assignment_delete"),
]
