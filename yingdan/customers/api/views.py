from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from yingdan.core.api.exceptions import django_errors_to_api
from yingdan.core.api.viewsets import BaseModelViewSet, BulkDeleteMixin
from yingdan.pools import services as pool_services

from .. import services
from ..models import Contact, Customer
from .filtersets import ContactFilterSet, CustomerFilterSet
from .serializers import (
    ContactSerializer,
    CustomerSerializer,
    PoolClaimSerializer,
    PoolCountSerializer,
    PoolOwnerSerializer,
    PoolReleaseSerializer,
)


def _pool_call(func, *args, **kwargs):
    """Run a pool service; its Django ValidationError becomes the API's 400 (PermissionDenied → 403,
    ObjectNotVisible → 404 through the exception handler)."""
    try:
        return func(*args, **kwargs)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(django_errors_to_api(exc))


class CustomerViewSet(BulkDeleteMixin, BaseModelViewSet):
    """Customers (客户) in your data scope. `?q=` searches name, pinyin, initials and phone."""

    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilterSet
    permission_module = "customers"
    select_related_fields = ("owner", "department", "created_by")
    batch_related_fields = ("industry", "source", "level", "status", "pool", "previous_owner")
    prefetch_related_fields = ("tags", "collaborators")
    ordering_fields = ("id", "name", "created_at", "updated_at")
    search_phone_fields = ("phone",)
    action_permissions = {"claim": "view", "release": "edit", "assign": "view", "transfer": "transfer",
                          "bulk_delete": "delete"}
    bulk_delete_service = staticmethod(services.delete_customers)
    prepared_get = True

    # Public pool (公海) actions. A pooled customer usually lies outside a rep's data scope, so claim and
    # assign address it by id and leave the checks (pool membership, caps, cooldown) to the service.
    @extend_schema(request=PoolClaimSerializer, responses=CustomerSerializer, summary="Claim a customer from its public pool")
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        customer = _pool_call(pool_services.claim, request.user, Customer, _int_pk(pk))
        return Response(CustomerSerializer(customer, context=self.get_serializer_context()).data)

    @extend_schema(request=PoolReleaseSerializer, responses=PoolCountSerializer, summary="Return a customer to a public pool (reason required)")
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        body = PoolReleaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        customer = self.get_object()
        count = _pool_call(pool_services.release, request.user, Customer, [customer.pk], body.validated_data["reason"],
                           pool=body.validated_data.get("pool"))
        return Response({"count": count})

    @extend_schema(request=PoolOwnerSerializer, responses=PoolCountSerializer, summary="Assign a pooled customer to a rep (pool admins)")
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        body = PoolOwnerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        pk = _int_pk(pk)
        _pool_call(pool_services.assign, request.user, Customer, [pk], body.validated_data["owner"])
        return Response({"count": 1})

    @extend_schema(request=PoolOwnerSerializer, responses=PoolCountSerializer, summary="Transfer a customer to another owner")
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        body = PoolOwnerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        customer = self.get_object()
        count = _pool_call(pool_services.transfer, request.user, Customer, [customer.pk], body.validated_data["owner"])
        return Response({"count": count})


def _int_pk(pk) -> int:
    try:
        return int(pk)
    except (TypeError, ValueError):
        raise serializers.ValidationError({"id": [_("Not a valid id.")]})


class ContactViewSet(BulkDeleteMixin, BaseModelViewSet):
    """Contacts (联系人); their data scope is their customer's. `?q=` searches name, pinyin, mobile, e-mail."""

    queryset = Contact.objects.all()
    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet
    permission_module = "contacts"
    select_related_fields = ("customer", "created_by")
    ordering_fields = ("id", "name", "created_at", "updated_at")
    search_phone_fields = ("mobile", "phone")
    search_email_fields = ("email",)
    action_permissions = {"bulk_delete": "delete"}
    bulk_delete_service = staticmethod(services.delete_contacts)
    prepared_get = True
