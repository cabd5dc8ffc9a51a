from django.utils.translation import gettext_lazy as _

from yingdan.core.tables import Column, Table

from .models import Contact, Customer


class CustomerTable(Table):
    owner = Column(order_by="owner_id")

    class Meta:
        model = Customer
        fields = [
            "name", "short_name", "level", "status", "industry", "source", "owner", "department", "phone",
            "province", "city", "credit_code", "tags", "created_at", "updated_at",
        ]
        default_columns = ["name", "level", "status", "industry", "owner", "department", "city", "updated_at"]
        linkify = ["name"]


class ContactTable(Table):
    customer_link = Column(_("Customer"), render=lambda c: c.customer, sortable=False)

    class Meta:
        model = Contact
        fields = ["name", "customer_link", "title", "mobile", "phone", "email", "wechat", "is_primary", "birthday", "created_at"]
        default_columns = ["name", "customer_link", "title", "mobile", "email", "is_primary"]
        linkify = ["name"]
