from django.urls import path

from .views import generic, settings

urlpatterns = [
    path("views/save/", generic.SavedViewSaveView.as_view(), name="savedview_save"),
    path("views/<int:pk>/delete/", generic.SavedViewDeleteView.as_view(), name="savedview_delete"),
    path("settings/custom-fields/", settings.CustomFieldListView.as_view(), name="customfield_list"),
    path("settings/custom-fields/add/", settings.CustomFieldEditView.as_view(), name="customfield_add"),
    path("settings/custom-fields/bulk/deactivate/", settings.CustomFieldBulkDeactivateView.as_view(), name="customfield_bulk_deactivate"),
    path("settings/custom-fields/<int:pk>/", settings.CustomFieldEditView.as_view(), name="customfield_edit"),
    path("settings/lists/", settings.LookupListView.as_view(), name="lookup_list"),
    path("settings/lists/add/", settings.LookupEditView.as_view(), name="lookup_add"),
    path("settings/lists/<int:pk>/", settings.LookupEditView.as_view(), name="lookup_edit"),
    path("settings/changes/", settings.ObjectChangeListView.as_view(), name="objectchange_list"),
    path("settings/changes/<int:pk>/", settings.ObjectChangeDetailView.as_view(), name="objectchange_detail"),
]
