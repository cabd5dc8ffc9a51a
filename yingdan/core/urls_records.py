"""Per-record pages shared by every business object: attachment downloads (permission-checked; stored files
are never served by their path) and the next page of a record's timeline."""

from django.urls import path

from .views.files import AttachmentDownloadView
from .views.timeline import TimelinePageView

urlpatterns = [
    path("attachments/<int:pk>/", AttachmentDownloadView.as_view(), name="attachment_download"),
    path("timeline/<str:label>/<int:pk>/", TimelinePageView.as_view(), name="timeline_page"),
]
