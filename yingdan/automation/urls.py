from django.urls import path

from . import views

app_name = "automation"
urlpatterns = [
    path("rules/", views.RuleListView.as_view(), name="rule_list"),
    path("rules/add/", views.RuleBuilderView.as_view(), name="rule_add"),
    path("rules/<int:pk>/", views.RuleDetailView.as_view(), name="rule_detail"),
    path("rules/<int:pk>/edit/", views.RuleBuilderView.as_view(), name="rule_edit"),
    path("rules/<int:pk>/toggle/", views.RuleToggleView.as_view(), name="rule_toggle"),
    path("rules/<int:pk>/delete/", views.RuleDeleteView.as_view(), name="rule_delete"),
    path("briefs/", views.BriefListView.as_view(), name="brief_list"),
    path("briefs/add/", views.BriefEditView.as_view(), name="brief_add"),
    path("briefs/<int:pk>/", views.BriefDetailView.as_view(), name="brief_detail"),
    path("briefs/<int:pk>/edit/", views.BriefEditView.as_view(), name="brief_edit"),
    path("briefs/<int:pk>/toggle/", views.BriefToggleView.as_view(), name="brief_toggle"),
    path("briefs/<int:pk>/delete/", views.BriefDeleteView.as_view(), name="brief_delete"),
]
