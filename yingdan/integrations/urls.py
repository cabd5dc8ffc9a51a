from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("robots/", views.RobotListView.as_view(), name="robot_list"),
    path("robots/add/", views.RobotEditView.as_view(), name="robot_add"),
    path("robots/<int:pk>/", views.RobotDetailView.as_view(), name="robot_detail"),
    path("robots/<int:pk>/edit/", views.RobotEditView.as_view(), name="robot_edit"),
    path("robots/<int:pk>/delete/", views.RobotDeleteView.as_view(), name="robot_delete"),
    path("robots/<int:pk>/test/", views.RobotTestView.as_view(), name="robot_test"),
    path("webhooks/", views.WebhookListView.as_view(), name="webhook_list"),
    path("webhooks/add/", views.WebhookEditView.as_view(), name="webhook_add"),
    path("webhooks/<int:pk>/", views.WebhookDetailView.as_view(), name="webhook_detail"),
    path("webhooks/<int:pk>/edit/", views.WebhookEditView.as_view(), name="webhook_edit"),
    path("webhooks/<int:pk>/delete/", views.WebhookDeleteView.as_view(), name="webhook_delete"),
    path("webhooks/<int:pk>/ping/", views.WebhookPingView.as_view(), name="webhook_ping"),
    path("deliveries/<int:pk>/redeliver/", views.RedeliverView.as_view(), name="delivery_redeliver"),
]
