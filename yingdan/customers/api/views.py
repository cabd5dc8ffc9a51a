from yingdan.core.api.viewsets import BaseModelViewSet

from ..models import Contact, Customer
from .filtersets import ContactFilterSet, CustomerFilterSet
from .serializers import ContactSerializer, CustomerSerializer


class CustomerViewSet(BaseModelViewSet):
    """Customers (客户) in your data scope. `?q=` searches name, pinyin, initials and phone."""

    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilterSet
    permission_module = "customers"
    select_related_fields = ("owner", "department", "industry", "source", "level", "status", "created_by")
    prefetch_related_fields = ("tags", "collaborators")
    ordering_fields = ("id", "name", "created_at", "updated_at")
    search_phone_fields = ("phone",)


class ContactViewSet(BaseModelViewSet):
    """Contacts (联系人); their data scope is their customer's. `?q=` searches name, pinyin, mobile, e-mail."""

    queryset = Contact.objects.all()
    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet
    permission_module = "contacts"
    select_related_fields = ("customer", "created_by")
    ordering_fields = ("id", "name", "created_at", "updated_at")
    search_phone_fields = ("mobile", "phone")
    search_email_fields = ("email",)
