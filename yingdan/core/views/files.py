"""Attachment download: only through this view, and only when the user may view the record it belongs to."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.views import View

from ..models import Attachment


def can_view_target(user, attachment: Attachment) -> bool:
    model = attachment.target_type.model_class()
    if model is None or not hasattr(model._default_manager, "visible_to"):
        return False
    return model._default_manager.visible_to(user).filter(pk=attachment.target_id).exists()


class AttachmentDownloadView(LoginRequiredMixin, View):
    def get(self, request, pk):
        attachment = get_object_or_404(Attachment.objects.select_related("target_type"), pk=pk)
        if not can_view_target(request.user, attachment):
            raise Http404
        try:
            handle = attachment.file.open("rb")
        except (FileNotFoundError, ValueError):
            raise Http404 from None
        inline = request.GET.get("inline") == "1" and attachment.mime_type.startswith("image/")
        response = FileResponse(handle, as_attachment=not inline, filename=attachment.name,
                                content_type=attachment.mime_type or "application/octet-stream")
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
        return response
