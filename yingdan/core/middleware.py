import uuid

from . import context
from .choices import ChangeSource


class ChangeContextMiddleware:
    """Every request runs inside a change context: user, source (web or API) and a request id that is
    echoed in the X-Request-ID response header and stored on each change-log row."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if incoming and len(incoming) <= 64 and incoming.replace("-", "").isalnum() else uuid.uuid4().hex
        source = ChangeSource.API if request.path.startswith("/api/") else ChangeSource.WEB
        if source == ChangeSource.API and request.path_info.startswith("/api/") and not hasattr(request, "urlconf"):
            from .api.urlconf import api_first_urlconf

            urlconf = api_first_urlconf()  # the same patterns, the API's first (a shorter walk)
            if urlconf is not None:
                request.urlconf = urlconf
        user = getattr(request, "user", None)
        with context.change_context(user=user if user is not None and user.is_authenticated else None, source=source, request_id=request_id):
            request.request_id = request_id
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
