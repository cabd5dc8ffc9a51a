from django.urls import path

from . import views

app_name = "followups"
urlpatterns = [
    path("", views.FollowUpListView.as_view(), name="followup_list"),
    path("add/", views.FollowUpEditView.as_view(), name="followup_add"),
    path("quick/", views.QuickAddView.as_view(), name="followup_quick_add"),
    path("due/", views.DueListView.as_view(), name="due_list"),
    path("<int:pk>/", views.FollowUpDetailView.as_view(), name="followup_detail"),
    path("<int:pk>/edit/", views.FollowUpEditView.as_view(), name="followup_edit"),
    path("<int:pk>/delete/", views.FollowUpDeleteView.as_view(), name="followup_delete"),
    path("<int:pk>/comments/", views.CommentAddView.as_view(), name="comment_add"),
]
