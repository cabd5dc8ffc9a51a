"""GET /api/v1/search/?q= — the global search over every provider, within the caller's data scope."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from .services import search

API_LIMIT = 20


class SearchHitSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="obj.pk")
    name = serializers.CharField(source="title")
    subtitle = serializers.CharField()
    owner = serializers.SerializerMethodField()
    matched = serializers.CharField(help_text="What matched: name, pinyin, initials, phone or email.")
    phone = serializers.CharField(help_text="The matched phone number, partly masked.")
    url = serializers.CharField()

    def get_owner(self, hit) -> str | None:
        return str(hit.owner) if hit.owner else None


class SearchGroupSerializer(serializers.Serializer):
    type = serializers.CharField(source="key")
    label = serializers.CharField()
    more = serializers.BooleanField()
    results = SearchHitSerializer(source="hits", many=True)


class SearchViewSet(viewsets.ViewSet):
    """Global search by name fragment, pinyin (full or initials, as a prefix), phone or e-mail."""

    permission_module = None  # any authenticated user; each provider applies its own module and data scope

    @extend_schema(
        parameters=[OpenApiParameter("q", OpenApiTypes.STR, description="Search text", required=True)],
        responses=SearchGroupSerializer(many=True),
    )
    def list(self, request):
        groups = search(request.user, request.query_params.get("q", ""), limit=API_LIMIT)
        return Response(SearchGroupSerializer(groups, many=True).data)


def register(router) -> None:
    router.register("search", SearchViewSet, basename="search")
