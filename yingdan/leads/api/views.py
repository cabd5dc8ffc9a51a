from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from yingdan.core import registry
from yingdan.core.api.exceptions import django_errors_to_api
from yingdan.core.api.viewsets import BaseModelViewSet, BulkDeleteMixin
from yingdan.core.choices import FieldAccess
from yingdan.core.permissions import get_permissions
from yingdan.core.text import normalize
from yingdan.customers.models import Customer
from yingdan.org.models import Department
from yingdan.pools import services as pool_services
from yingdan.pools.models import Pool

from .. import services
from ..models import AssignmentRule, Lead
from .filtersets import LeadFilterSet
from .serializers import AssignmentRuleSerializer, LeadConvertSerializer, LeadSerializer


class AlreadyConverted(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "already_converted"


class LeadAssignTeamSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), min_length=1, max_length=1000)
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all())


class LeadCountSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class LeadIdsSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), min_length=1, max_length=1000)


class LeadTransferSerializer(LeadIdsSerializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.filter(is_active=True), help_text="An active user.")


class LeadReleaseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Why the lead goes back to the pool (required).")
    pool = serializers.PrimaryKeyRelatedField(queryset=Pool.objects.filter(is_active=True, object_type="lead"), required=False,
                                              allow_null=True, help_text="A lead pool; default: the pool covering the lead.")


def _call(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(django_errors_to_api(exc))


class LeadViewSet(BulkDeleteMixin, BaseModelViewSet):
    """Leads (线索) in your data scope. `?q=` searches name, company, pinyin, mobile/phone and e-mail.
    `POST {id}/convert/` turns a lead into a customer and a contact."""

    queryset = Lead.objects.all()
    serializer_class = LeadSerializer
    filterset_class = LeadFilterSet
    permission_module = "leads"
    action_permissions = {"convert": "edit", "assign_team": "transfer", "release": "edit", "transfer": "transfer", "bulk_delete": "delete"}
    bulk_delete_service = staticmethod(services.delete_leads)
    select_related_fields = ("owner", "department", "status", "source", "pool", "converted_customer", "converted_contact", "created_by")
    prefetch_related_fields = ("collaborators",)
    ordering_fields = ("id", "name", "company", "created_at", "updated_at", "last_contact_at")
    search_phone_fields = ("mobile", "phone")
    search_email_fields = ("email",)

    def search_queryset(self, queryset, text):
        """The list's index-backed filter (name/company fragments, pinyin, phone and e-mail prefixes) unless a
        searched field is hidden from the user, then the base search over the fields they may see."""
        hidden = {k for k, v in get_permissions(self.request.user).field_map("leads").items() if v == FieldAccess.HIDDEN}
        text_filter = registry.text_filters.get(Lead._meta.label_lower)
        if text_filter is None or hidden & {"mobile", "phone", "email", "company"}:
            return super().search_queryset(queryset, text)
        if not normalize(text) and "@" not in text:
            return queryset
        q = text_filter(text)
        return queryset.filter(q) if q is not None else queryset.none()

    @extend_schema(request=LeadAssignTeamSerializer, responses=LeadCountSerializer,
                   summary="Share leads out inside a team by its assignment rule (the list's bulk assign)")
    @action(detail=False, methods=["post"], url_path="assign-team", pagination_class=None, filter_backends=[])
    def assign_team(self, request):
        body = LeadAssignTeamSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            count = services.assign_leads_to_team(request.user, body.validated_data["ids"], body.validated_data["department"])
        except DjangoValidationError as exc:
            raise serializers.ValidationError(django_errors_to_api(exc))
        return Response({"count": count})

    @extend_schema(request=LeadTransferSerializer, responses=LeadCountSerializer,
                   summary="Give several leads to one user (the list's bulk transfer; needs 'transfer')")
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def transfer(self, request):
        body = LeadTransferSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        count = _call(services.transfer_leads, request.user, body.validated_data["ids"], body.validated_data["owner"])
        return Response({"count": count})

    @extend_schema(request=LeadReleaseSerializer, responses=LeadCountSerializer, summary="Return a lead to a public pool (reason required)")
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        lead = self.get_object()
        body = LeadReleaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        count = _call(pool_services.release, request.user, Lead, [lead.pk], body.validated_data["reason"],
                      pool=body.validated_data.get("pool"))
        return Response({"count": count})

    @extend_schema(request=LeadConvertSerializer, responses={200: dict})
    @action(detail=True, methods=["post"])
    def convert(self, request, pk=None):
        """Convert the lead into a new customer (or attach it to `customer`, one you may edit) plus a contact.
        A lead converts once; a second attempt is a 400 with code `already_converted`."""
        lead = self.get_object()
        body = LeadConvertSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        existing = Customer(pk=data["customer"]) if data.get("customer") else None
        try:
            customer, contact = services.convert_lead(
                request.user, lead, customer=existing,
                customer_values=services.resolve_customer_values(data.get("customer_values") or {}) if existing is None else None,
                contact_values=data.get("contact_values") or {}, create_contact=data.get("create_contact", True),
                entry_point="api", confirm_duplicates=data.get("confirm_duplicates", False),
            )
        except DjangoValidationError as exc:
            if getattr(exc, "code", None) == "already_converted":
                raise AlreadyConverted(exc.messages[0])
            raise serializers.ValidationError(django_errors_to_api(exc))
        lead.refresh_from_db()
        return Response({
            "lead": LeadSerializer(lead, context=self.get_serializer_context()).data,
            "customer": {"id": customer.pk, "display": str(customer)},
            "contact": {"id": contact.pk, "display": str(contact)} if contact else None,
        })


class AssignmentRuleViewSet(BaseModelViewSet):
    """Fair-assignment rules per team (settings: view to read, edit to write)."""

    queryset = AssignmentRule.objects.all()
    serializer_class = AssignmentRuleSerializer
    permission_module = "settings"
    action_permissions = {"create": "edit", "update": "edit", "partial_update": "edit", "destroy": "edit"}
    select_related_fields = ("department", "last_assigned")
    prefetch_related_fields = ("members",)
    ordering_fields = ("id",)
