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
