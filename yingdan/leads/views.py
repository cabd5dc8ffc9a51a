from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from yingdan.core.choices import Action
from yingdan.core.forms import OwnerChangeForm
from yingdan.core.permissions import get_permissions
from yingdan.core.views import generic
from yingdan.customers.models import Customer
from yingdan.duplicates import services as duplicate_services

from . import services
from .filtersets import AssignmentRuleFilterSet, LeadFilterSet
from .forms import (
    AssignmentRuleForm,
    LeadAssignTeamForm,
    LeadBulkEditForm,
    LeadConvertForm,
    LeadForm,
)
from .models import AssignmentRule, Lead
from .tables import AssignmentRuleTable, LeadTable

LEAD_RELATED = ("owner", "department", "status", "source", "pool", "converted_customer")
LIVE_CHECK_TEMPLATE = "duplicates/_live_check.html"


def optional_template(name: str) -> str:
    """The template's name when it exists (another app may not have provided it yet), else ""."""
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return ""
    return name


# -- leads ---------------------------------------------------------------------------------------------
class LeadListView(generic.ObjectListView):
    model = Lead
    queryset = Lead.objects.select_related(*LEAD_RELATED).defer("remarks", "converted_customer__remarks")
    filterset = LeadFilterSet
    table = LeadTable
    add_url_name = "leads:lead_add"
    bulk_actions = [
        ("leads:lead_bulk_edit", gettext_lazy("Edit"), Action.EDIT),
        ("leads:lead_bulk_transfer", gettext_lazy("Change owner"), Action.TRANSFER),
        ("leads:lead_bulk_assign", gettext_lazy("Assign within a team"), Action.TRANSFER),
        ("leads:lead_bulk_delete", gettext_lazy("Delete"), Action.DELETE),
    ]


class LeadDetailView(generic.ObjectDetailView):
    model = Lead
    queryset = Lead.objects.select_related(*LEAD_RELATED, "created_by", "converted_contact", "previous_owner")
    template_name = "leads/lead_detail.html"
    detail_sections = [
        (gettext_lazy("Basic information"), ["name", "company", "title", "source", "status"]),
        (gettext_lazy("Contact information"), ["mobile", "phone", "email", "province", "city", "district"]),
        (gettext_lazy("Ownership"), ["owner", "department", "collaborators", "pool", "created_by", "created_at", "updated_at"]),
        (gettext_lazy("Conversion"), ["converted_customer", "converted_contact", "converted_at"]),
        (gettext_lazy("Remarks"), ["remarks"]),
    ]
    edit_url_name = "leads:lead_edit"

    def overview_sections(self, obj):
        sections = super().overview_sections(obj)
        if obj.converted_at is None:
            conversion = str(gettext_lazy("Conversion"))
            sections = [s for s in sections if str(s[0]) != conversion]
        return sections

    def extra_context(self, obj):
        perms = get_permissions(self.request.user)
        can_convert = (
            obj.converted_at is None and perms.has("leads", Action.EDIT) and perms.has("customers", Action.CREATE)
            and Lead.objects.visible_to(self.request.user, Action.EDIT).filter(pk=obj.pk).exists()
        )
        return {
            "edit_url": self.get_edit_url(obj),
            "delete_url": reverse("leads:lead_delete", args=[obj.pk]) if perms.has("leads", Action.DELETE) else None,
            "convert_url": reverse("leads:lead_convert", args=[obj.pk]) if can_convert else None,
            # the timeline tab carries the quick follow-up form with this lead preselected (as on customers)
            "can_add_followup": perms.has("followups", Action.CREATE),
            "customer_visible": bool(obj.converted_customer_id) and Customer.objects.visible_to(self.request.user).filter(pk=obj.converted_customer_id).exists(),
        }


class LeadEditView(generic.ObjectEditView):
    model = Lead
    form_class = LeadForm
    template_name = "leads/lead_edit.html"

    def save(self, form):
        return services.save_lead(
            self.request.user, form.instance,
            collaborators=form.cleaned_data.get("collaborators") if "collaborators" in form.fields else None,
            custom_fields=form.custom_field_values(),
            entry_point="form",
            confirm_duplicates=getattr(self, "confirm_duplicates", False),
            assign_to_department=form.cleaned_data.get("assign_to_department"),
        )

    def render_form(self, form, instance, status=200):
        context = {
            **self.model_context(), "form": form, "object": instance, "is_new": instance.pk is None,
            "live_check_template": optional_template(LIVE_CHECK_TEMPLATE),
        }
        return render(self.request, self.template_name, context, status=status)


class LeadDeleteView(generic.ObjectDeleteView):
    model = Lead
    success_url_name = "leads:lead_list"

    def delete(self, obj):
        services.delete_lead(self.request.user, obj)


class LeadBulkEditView(generic.BulkActionView):
    model = Lead
    action = Action.EDIT
    form_class = LeadBulkEditForm
    title = gettext_lazy("Edit leads")
    success_url_name = "leads:lead_list"

    def apply(self, ids, form):
        values = {k: v for k, v in form.cleaned_data.items() if v}
        return services.update_leads(self.request.user, ids, **values)


class LeadBulkTransferView(generic.BulkActionView):
    model = Lead
    action = Action.TRANSFER
    form_class = OwnerChangeForm
    title = gettext_lazy("Change owner")
    success_url_name = "leads:lead_list"

    def apply(self, ids, form):
        return services.transfer_leads(self.request.user, ids, form.cleaned_data["owner"])


class LeadBulkAssignView(generic.BulkActionView):
    model = Lead
    action = Action.TRANSFER
    form_class = LeadAssignTeamForm
    title = gettext_lazy("Assign within a team")
    success_url_name = "leads:lead_list"

    def apply(self, ids, form):
        return services.assign_leads_to_team(self.request.user, ids, form.cleaned_data["department"])


class LeadBulkDeleteView(generic.BulkActionView):
    model = Lead
    action = Action.DELETE
    title = gettext_lazy("Delete leads")
    success_url_name = "leads:lead_list"

    def apply(self, ids, form):
        return services.delete_leads(self.request.user, ids)


class LeadConvertView(generic.ObjectPermissionMixin, View):
    """Convert a lead: a customer (new, pre-filled from the lead, or an existing match) plus a contact."""

    model = Lead
    action = Action.EDIT
    template_name = "leads/lead_convert.html"

    def get_lead(self):
        self.check_module_permission(Action.EDIT)
        if not get_permissions(self.request.user).has("customers", Action.CREATE):
            raise PermissionDenied(_("You do not have permission to do this."))
        return self.get_object(Action.EDIT)

    def initial(self, lead):
        customer = services.customer_values_from(lead)
        contact = services.contact_values_from(lead)
        return {
            "name": customer["name"], "phone": customer["phone"], "province": customer["province"], "city": customer["city"],
            "create_contact": True, **{f"contact_{k}": v for k, v in contact.items()},
        }

    def matches(self, lead, form=None):
        """Existing customers the duplicate check finds, each marked whether the user may attach to it."""
        data = form.cleaned_data if form is not None and hasattr(form, "cleaned_data") else {}
        query = {
            "name": data.get("name") or lead.company or lead.name, "phone": data.get("phone") or lead.phone,
            "credit_code": data.get("credit_code") or "", "mobile": lead.mobile, "email": lead.email,
        }
        found = duplicate_services.find_matches("customer", query, entry_point="form")
        ids = [m.pk for m in found]
        editable = set(Customer.objects.visible_to(self.request.user, Action.EDIT).filter(pk__in=ids).values_list("pk", flat=True))
        visible = set(Customer.objects.visible_to(self.request.user).filter(pk__in=ids).values_list("pk", flat=True))
        rows = []
        for m in found:
            obj = m.obj
            rows.append({
                "pk": m.pk, "fields": m.fields, "score": m.score,
                # Outside the scope: only the owner, their department and the pool status (never the data).
                "name": str(obj) if m.pk in visible else "",
                "url": obj.get_absolute_url() if m.pk in visible else "",
                "owner": getattr(obj, "owner", None), "department": getattr(obj, "department", None),
                "in_pool": bool(getattr(obj, "pool_id", None)),
                "editable": m.pk in editable,
            })
        return rows

    def render_page(self, lead, form, status=200, duplicate_warning=False):
        context = {
            **self.model_context(), "object": lead, "form": form, "matches": self.matches(lead, form),
            "duplicate_warning": duplicate_warning,
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, *args, **kwargs):
        lead = self.get_lead()
        if lead.converted_at is not None:
            messages.warning(request, _("This lead was already converted."))
            return HttpResponseRedirect(lead.get_absolute_url())
        return self.render_page(lead, LeadConvertForm(initial=self.initial(lead), user=request.user))

    def post(self, request, *args, **kwargs):
        lead = self.get_lead()
        form = LeadConvertForm(request.POST, user=request.user)
        validate_field = request.POST.get("_validate")
        if validate_field and generic.is_htmx(request):
            # Inline validation of one field: nothing is converted.
            form.is_valid()
            if validate_field not in form.fields:
                return HttpResponse(status=204)
            return render(request, "generic/_form_field.html", {"field": form[validate_field], "validate": True})
        warning = False
        if form.is_valid():
            existing = None
            if form.cleaned_data.get("existing_customer"):
                existing = Customer(pk=form.cleaned_data["existing_customer"])
            try:
                customer, _contact = services.convert_lead(
                    request.user, lead, customer=existing,
                    customer_values=form.customer_values() if existing is None else None,
                    contact_values=form.contact_values(), create_contact=form.cleaned_data.get("create_contact", False),
                    entry_point="form", confirm_duplicates=request.POST.get("_confirm_duplicates") == "1",
                )
            except ValidationError as exc:
                warning = any(getattr(e, "code", "") == "duplicate_warning" for e in _error_list(exc))
                generic.apply_validation_error(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc) or _("You do not have permission to do this."))
            else:
                messages.success(request, _("Lead converted to customer “%(customer)s”.") % {"customer": customer})
                if Customer.objects.visible_to(request.user).filter(pk=customer.pk).exists():
                    return HttpResponseRedirect(customer.get_absolute_url())
                return HttpResponseRedirect(lead.get_absolute_url())
        return self.render_page(lead, form, status=400, duplicate_warning=warning)


def _error_list(exc: ValidationError) -> list:
    if hasattr(exc, "error_dict"):
        return [e for errors in exc.error_dict.values() for e in errors]
    return list(exc.error_list)


# -- assignment rules (settings) ----------------------------------------------------------------------
class AssignmentRuleListView(generic.ObjectListView):
    model = AssignmentRule
    queryset = AssignmentRule.objects.select_related("department", "last_assigned").prefetch_related("members")
    filterset = AssignmentRuleFilterSet
    table = AssignmentRuleTable
    add_url_name = "leads:assignment_add"
    create_action = Action.EDIT


class AssignmentRuleEditView(generic.ObjectEditView):
    model = AssignmentRule
    form_class = AssignmentRuleForm
    template_name = "leads/assignmentrule_edit.html"
    success_url_name = "leads:assignment_list"
    create_action = Action.EDIT

    def render_form(self, form, instance, status=200):
        rows = []
        if instance.pk:
            members = services.eligible_members(instance)
            loads = services.member_loads([m.pk for m in members], "both")
            rows = [{"user": m, "load": loads.get(m.pk, 0), "last": m.pk == instance.last_assigned_id} for m in members]
        context = {**self.model_context(), "form": form, "object": instance, "is_new": instance.pk is None, "member_rows": rows}
        return render(self.request, self.template_name, context, status=status)

    def save(self, form):
        return services.save_assignment_rule(self.request.user, form.instance, members=form.cleaned_data.get("members"))


class AssignmentRuleDeleteView(generic.ObjectDeleteView):
    model = AssignmentRule
    action = Action.EDIT
    success_url_name = "leads:assignment_list"

    def delete(self, obj):
        services.delete_assignment_rule(self.request.user, obj)
