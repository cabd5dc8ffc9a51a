from django.http import Http404


class ObjectNotVisible(Http404):
    """The object does not exist for this user (missing or outside their data scope). Always a 404, so
    nothing about the object leaks."""


MAX_ROW_ID = 2**63 - 1


def row_id_or_404(value) -> int:
    """A path id as an int. What cannot be a row id (not ASCII digits, beyond bigint — PostgreSQL would fail the
    query) is simply not found."""
    text = str(value if value is not None else "")
    if not (text.isascii() and text.isdigit() and int(text) <= MAX_ROW_ID):
        raise Http404
    return int(text)
