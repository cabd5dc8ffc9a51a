from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.CustomerListView.as_view(), name="customer_list"),
    path("add/", views.CustomerEditView.as_view(), name="customer_add"),
    path("autocomplete/", views.CustomerAutocompleteView.as_view(), name="customer_autocomplete"),
    path("bulk/edit/", views.CustomerBulkEditView.as_view(), name="customer_bulk_edit"),
    path("bulk/transfer/", views.CustomerBulkTransferView.as_view(), name="customer_bulk_transfer"),
    path("bulk/delete/", views.CustomerBulkDeleteView.as_view(), name="customer_bulk_delete"),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="customer_detail"),
    path("<int:pk>/edit/", views.CustomerEditView.as_view(), name="customer_edit"),
    path("<int:pk>/delete/", views.CustomerDeleteView.as_view(), name="customer_delete"),
    path("contacts/", views.ContactListView.as_view(), name="contact_list"),
    path("contacts/add/", views.ContactEditView.as_view(), name="contact_add"),
    path("contacts/bulk/delete/", views.ContactBulkDeleteView.as_view(), name="contact_bulk_delete"),
    path("contacts/<int:pk>/", views.ContactDetailView.as_view(), name="contact_detail"),
    path("contacts/<int:pk>/edit/", views.ContactEditView.as_view(), name="contact_edit"),
    path("contacts/<int:pk>/delete/", views.ContactDeleteView.as_view(), name="contact_delete"),
]
