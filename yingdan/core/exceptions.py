from django.http import Http404


class ObjectNotVisible(Http404):
    """The object does not exist for this user (missing or outside their data scope). Always a 404, so
    nothing about the object leaks."""
