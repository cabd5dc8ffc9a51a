from django.urls import path

from . import tokens, views

app_name = "org"
urlpatterns = [
    path("account/tokens/", tokens.TokenListView.as_view(), name="api_tokens"),
    path("account/tokens/<int:pk>/revoke/", tokens.TokenRevokeView.as_view(), name="api_token_revoke"),
    # users
    path("org/users/", views.UserListView.as_view(), name="user_list"),
    path("org/users/add/", views.UserEditView.as_view(), name="user_add"),
    path("org/users/bulk/department/", views.UserBulkDepartmentView.as_view(), name="user_bulk_department"),
    path("org/users/bulk/role/", views.UserBulkRoleView.as_view(), name="user_bulk_role"),
    path("org/users/bulk/deactivate/", views.UserBulkDeactivateView.as_view(), name="user_bulk_deactivate"),
    path("org/users/<int:pk>/", views.UserDetailView.as_view(), name="user_detail"),
    path("org/users/<int:pk>/edit/", views.UserEditView.as_view(), name="user_edit"),
    path("org/users/<int:pk>/deactivate/", views.UserStatusView.as_view(activate=False), name="user_deactivate"),
    path("org/users/<int:pk>/activate/", views.UserStatusView.as_view(activate=True), name="user_activate"),
    path("org/users/<int:pk>/password/", views.UserPasswordView.as_view(), name="user_password"),
    # departments
    path("org/departments/", views.DepartmentTreeView.as_view(), name="department_list"),
    path("org/departments/table/", views.DepartmentListView.as_view(), name="department_table"),
    path("org/departments/add/", views.DepartmentEditView.as_view(), name="department_add"),
    path("org/departments/<int:pk>/", views.DepartmentDetailView.as_view(), name="department_detail"),
    path("org/departments/<int:pk>/edit/", views.DepartmentEditView.as_view(), name="department_edit"),
    path("org/departments/<int:pk>/delete/", views.DepartmentDeleteView.as_view(), name="department_delete"),
    # roles
    path("org/roles/", views.RoleListView.as_view(), name="role_list"),
    path("org/roles/add/", views.RoleEditView.as_view(), name="role_add"),
    path("org/roles/<int:pk>/", views.RoleDetailView.as_view(), name="role_detail"),
    path("org/roles/<int:pk>/edit/", views.RoleEditView.as_view(), name="role_edit"),
    path("org/roles/<int:pk>/delete/", views.RoleDeleteView.as_view(), name="role_delete"),
]
