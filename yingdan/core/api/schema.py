"""drf-spectacular extensions for our own fields and authentication."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema


class NestedRelatedFieldExtension(OpenApiSerializerFieldExtension):
    """Requests carry the id; responses the brief object `{id, <brief fields>, url}`."""

    target_class = "yingdan.core.api.fields.NestedRelatedField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        if direction == "request":
            return {"type": "integer", "description": "Id of the related object."}
        properties = {"id": {"type": "integer", "readOnly": True}}
        for name in field.brief_fields:
            properties[name] = {"type": "string", "readOnly": True}
        if field.url_name:
            properties["url"] = {"type": "string", "format": "uri", "readOnly": True}
        return {"type": "object", "properties": properties, "required": list(properties)}


class SingleObjectSchema(AutoSchema):
    """For endpoints whose collection route returns one object (e.g. /me/)."""

    def _is_list_view(self, serializer=None):
        return False


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "example": "validation_error"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": True, "description": "Field → messages (validation errors)."},
            },
        }
    },
}
ERROR_STATUSES = {
    "400": "Invalid input (validation_error) or parameters.",
    "401": "Missing, invalid, expired or revoked token.",
    "403": "No permission for this module/action, or a read-only token on a write.",
    "404": "Not found, or outside the user's data scope.",
    "405": "Method not allowed.",
    "409": "Conflict: the record is still referenced.",
    "422": "Idempotency-Key reused with a different body.",
    "429": "Rate limit exceeded; see Retry-After.",
}
RATE_HEADERS = {
    "X-RateLimit-Limit": {"schema": {"type": "integer"}, "description": "Requests allowed in the window."},
    "X-RateLimit-Remaining": {"schema": {"type": "integer"}, "description": "Requests left in the window."},
    "X-RateLimit-Reset": {"schema": {"type": "integer"}, "description": "Seconds until the window resets."},
}


def add_error_responses(result, generator, request, public):
    """Postprocessing hook: every operation documents the one error format for the error statuses the base
    classes can return, the rate-limit headers, and `Idempotency-Key` on POST."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    _local_times(schemas)
    schemas["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_STATUSES.items():
                if code == "422" and method != "post":
                    continue
                responses.setdefault(code, {"description": description, "content": {"application/json": {"schema": ref}}})
            for response in responses.values():
                response.setdefault("headers", {}).update(RATE_HEADERS) if isinstance(response, dict) else None
            if method == "post":
                params = operation.setdefault("parameters", [])
                if not any(p.get("name") == "Idempotency-Key" for p in params):
                    params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                                   "schema": {"type": "string", "maxLength": 255},
                                   "description": "Replays the first response for 24 hours; a different body → 422."})
    return result


TIME_PATTERN = r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"


def _local_times(node):
    """Times of day are local wall-clock times ("09:00:00", no offset): OpenAPI's `format: time` is RFC 3339's
    full-time, which requires an offset, so they are documented by a pattern instead."""
    if isinstance(node, dict):
        if node.get("format") == "time" and node.get("type") == "string":
            node.pop("format")
            node["pattern"] = TIME_PATTERN
            node.setdefault("example", "09:00:00")
        for value in node.values():
            _local_times(value)
    elif isinstance(node, list):
        for value in node:
            _local_times(value)
