"""One error format for the whole API:

{"error": {"code": "validation_error", "message": "...", "fields": {"name": ["..."]}}}
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("Other records still use this one; deactivate it instead, or remove those references first.")
    default_code = "protected"


def _flatten(detail):
    if isinstance(detail, dict):
        return {str(k): _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        if all(not isinstance(i, (dict, list)) for i in detail):
            return [str(i) for i in detail]
        return [_flatten(i) for i in detail]
    return [str(detail)]


def django_errors_to_api(exc: DjangoValidationError) -> dict:
    """Django ValidationError → DRF detail; `cf_<key>` keys are nested under `custom_fields`."""
    if not hasattr(exc, "error_dict"):
        return {"non_field_errors": exc.messages}
    detail: dict = {}
    for key, messages in exc.message_dict.items():
        if key.startswith("cf_"):
            detail.setdefault("custom_fields", {})[key[3:]] = messages
        elif key == "__all__":
            detail.setdefault("non_field_errors", []).extend(messages)
        else:
            detail[key] = messages
    return detail


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(django_errors_to_api(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, (ProtectedError, RestrictedError)):
        exc = Conflict()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail) if isinstance(exc.detail, dict) else {"non_field_errors": _flatten(exc.detail)}
        body = {"code": "validation_error", "message": _("The data is invalid; see the fields."), "fields": fields}
    else:
        code = getattr(exc, "default_code", "error")
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        body = {"code": code, "message": str(detail)}
    response.data = {"error": body}
    request = context.get("request")
    if request is not None:
        from .throttling import add_headers

        add_headers(request, response)
    return response


__all__ = ["exception_handler", "django_errors_to_api", "Conflict", "status", "Response"]
