from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View

from yingdan.core.choices import Action
from yingdan.core.forms import OwnerChangeForm
from yingdan.core.models import Attachment
from yingdan.core.permissions import get_permissions
from yingdan.core.views import generic
from yingdan.pools import services as pool_services

from . import services
from .filtersets import ContactFilterSet, CustomerFilterSet, name_search
from .forms import ContactForm, CustomerBulkEditForm, CustomerForm
from .models import Contact, Customer
from .tables import ContactTable, CustomerTable

CUSTOMER_RELATED = ("owner", "department", "level", "status", "industry", "source")


# -- customers -----------------------------------------------------------------------------------------
class CustomerListView(generic.ObjectListView):
    model = Customer
    queryset = Customer.objects.select_related(*CUSTOMER_RELATED).defer("remarks")
    filterset = CustomerFilterSet
    table = CustomerTable
    add_url_name = "customers:customer_add"
    bulk_actions = [
        ("customers:customer_bulk_edit", _("Edit"), Action.EDIT),
        ("customers:customer_bulk_transfer", _("Change owner"), Action.TRANSFER),
        ("customers:customer_bulk_delete", _("Delete"), Action.DELETE),
    ]


class CustomerDetailView(generic.ObjectDetailView):
    """The customer 360 page: key facts in the header, the timeline as the default tab (follow-ups, changes and
    what other apps register), contacts, files and the change log. Every query is bounded (one row, or a page
    read from an index), so the page costs the same at a million customers."""

    model = Customer
    queryset = Customer.objects.select_related(*CUSTOMER_RELATED, "created_by", "pool", "previous_owner")
    template_name = "customers/customer_detail.html"
    detail_sections = [
        (_("Basic information"), ["name", "short_name", "credit_code", "industry", "source", "level", "status", "tags"]),
        (_("Contact information"), ["phone", "website", "province", "city", "district", "address"]),
        (_("Ownership"), ["owner", "department", "collaborators", "created_by", "created_at", "updated_at"]),
        (_("Remarks"), ["remarks"]),
    ]
    tabs = [
        ("contacts", _("Contacts"), "customers/_tab_contacts.html"),
        ("files", _("Files"), "customers/_tab_files.html"),
    ]
    edit_url_name = "customers:customer_edit"
    default_tab = "timeline"
    files_limit = 200

    def get(self, request, *args, **kwargs):
        if "tab" not in request.GET:
            request.GET = request.GET.copy()
            request.GET["tab"] = self.default_tab
        return super().get(request, *args, **kwargs)

    def overview_sections(self, obj):
        # Fields the customer's public pool hides while it sits there (non-admins of the pool).
        hidden = pool_services.hidden_fields_for(self.request.user, obj)
        sections = super().overview_sections(obj)
        return [(t, [r for r in rows if r["name"] not in hidden]) for t, rows in sections] if hidden else sections

    def get_tabs(self, obj):
        tabs = super().get_tabs(obj)
        # The timeline (registered by the follow-ups app) comes first: it is what a rep opens a customer for.
        return sorted(tabs, key=lambda t: 0 if t["key"] == self.default_tab else 1)

    def extra_context(self, obj):
        perms = get_permissions(self.request.user)
        today = timezone.localdate()
        last = obj.last_contact_at
        converted_from = None
        if perms.has("leads", Action.VIEW):
            converted_from = obj.leads.only("id", "name", "company", "converted_customer_id").order_by("-id").first()
        return {
            "edit_url": self.get_edit_url(obj),
            "delete_url": reverse("customers:customer_delete", args=[obj.pk]) if perms.has("customers", Action.DELETE) else None,
            "contact_count": obj.contacts.count(),
            "can_add_contact": perms.has("contacts", Action.CREATE),
            "days_since_contact": (today - timezone.localdate(last)).days if last else None,
            "followup_overdue": bool(obj.next_followup_at and obj.next_followup_at < today),
            "followup_due_today": obj.next_followup_at == today,
            "converted_from": converted_from,
        }

    def tab_context(self, obj, tab):
        context = super().tab_context(obj, tab)
        if tab == self.default_tab:
            # Beside the timeline: the customer's fields (custom fields included), as on the overview tab.
            context.update(sections=self.overview_sections(obj), side_template="customers/_key_facts.html")
        return context

    def tab_contacts(self, obj):
        contacts = Contact.objects.visible_to(self.request.user).filter(customer=obj).order_by("-is_primary", "id")
        return {"contacts": contacts}

    def tab_files(self, obj):
        """Attachments of the customer itself and of its follow-ups, newest first (one bounded query)."""
        followup_model = obj.followups.model
        q = Q(target_type=ContentType.objects.get_for_model(Customer), target_id=obj.pk)
        if get_permissions(self.request.user).has(followup_model.permission_module, Action.VIEW):
            followup_ids = followup_model.of_parent(self.request.user, customer_id=obj.pk, parent=obj).values("id")
            q |= Q(target_type=ContentType.objects.get_for_model(followup_model), target_id__in=followup_ids)
        attachments = list(Attachment.objects.filter(q).select_related("uploaded_by").order_by("-id")[: self.files_limit + 1])
        return {"attachments": attachments[: self.files_limit], "attachments_more": len(attachments) > self.files_limit}


class CustomerEditView(generic.ObjectEditView):
    model = Customer
    form_class = CustomerForm
    template_name = "duplicates/checked_form.html"  # the generic form plus the live duplicate check

    def save(self, form):
        customer = form.instance
        return services.save_customer(
            self.request.user, customer,
            collaborators=form.cleaned_data.get("collaborators") if "collaborators" in form.fields else None,
            tags=form.cleaned_data.get("tags") if "tags" in form.fields else None,
            custom_fields=form.custom_field_values(),
            entry_point="form", confirm_duplicates=self.confirm_duplicates,
        )


class CustomerDeleteView(generic.ObjectDeleteView):
    model = Customer
    success_url_name = "customers:customer_list"

    def delete(self, obj):
        services.delete_customer(self.request.user, obj)


class CustomerBulkEditView(generic.BulkActionView):
    model = Customer
    action = Action.EDIT
    form_class = CustomerBulkEditForm
    title = _("Edit customers")
    success_url_name = "customers:customer_list"

    def apply(self, ids, form):
        values = {k: v for k, v in form.cleaned_data.items() if v}
        return services.update_customers(self.request.user, ids, **values)


class CustomerBulkTransferView(generic.BulkActionView):
    model = Customer
    action = Action.TRANSFER
    form_class = OwnerChangeForm
    title = _("Change owner")
    success_url_name = "customers:customer_list"

    def apply(self, ids, form):
        return services.transfer_customers(self.request.user, ids, form.cleaned_data["owner"])


class CustomerBulkDeleteView(generic.BulkActionView):
    model = Customer
    action = Action.DELETE
    title = _("Delete customers")
    success_url_name = "customers:customer_list"

    def apply(self, ids, form):
        return services.delete_customers(self.request.user, ids)


class CustomerAutocompleteView(LoginRequiredMixin, View):
    def get(self, request):
        q = request.GET.get("q", "").strip()
        results = []
        if q:
            results = name_search(Customer.objects.visible_to(request.user).only("id", "name"), q).order_by("-id")[:10]
        return render(request, "generic/_autocomplete_results.html", {"results": results, "q": q})


# -- contacts ------------------------------------------------------------------------------------------
class ContactListView(generic.ObjectListView):
    model = Contact
    queryset = Contact.objects.select_related("customer").defer("remarks", "customer__remarks")
    filterset = ContactFilterSet
    table = ContactTable
    add_url_name = "customers:contact_add"
    bulk_actions = [("customers:contact_bulk_delete", _("Delete"), Action.DELETE)]


class ContactDetailView(generic.ObjectDetailView):
    model = Contact
    queryset = Contact.objects.select_related("customer", "created_by")
    detail_sections = [
        (_("Basic information"), ["name", "customer", "title", "is_primary", "birthday"]),
        (_("Contact information"), ["mobile", "phone", "email", "wechat"]),
        (_("Remarks"), ["remarks", "created_by", "created_at", "updated_at"]),
    ]

    def extra_context(self, obj):
        perms = get_permissions(self.request.user)
        return {
            "edit_url": self.get_edit_url(obj),
            "delete_url": reverse("customers:contact_delete", args=[obj.pk]) if perms.has("contacts", Action.DELETE) else None,
        }

    edit_url_name = "customers:contact_edit"


class ContactEditView(generic.ObjectEditView):
    model = Contact
    form_class = ContactForm
    template_name = "duplicates/checked_form.html"  # the generic form plus the live duplicate check

    def save(self, form):
        return services.save_contact(
            self.request.user, form.instance, custom_fields=form.custom_field_values(),
            entry_point="form", confirm_duplicates=self.confirm_duplicates,
        )


class ContactDeleteView(generic.ObjectDeleteView):
    model = Contact
    success_url_name = "customers:contact_list"

    def delete(self, obj):
        services.delete_contact(self.request.user, obj)


class ContactBulkDeleteView(generic.BulkActionView):
    model = Contact
    action = Action.DELETE
    title = _("Delete contacts")
    success_url_name = "customers:contact_list"

    def apply(self, ids, form):
        return services.delete_contacts(self.request.user, ids)
