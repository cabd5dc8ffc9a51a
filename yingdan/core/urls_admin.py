from django.urls import path

from .views import generic

urlpatterns = [
    path("views/save/", generic.SavedViewSaveView.as_view(), name="savedview_save"),
    path("views/<int:pk>/delete/", generic.SavedViewDeleteView.as_view(), name="savedview_delete"),
]
