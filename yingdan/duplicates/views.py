"""Pages: duplicate rules (settings), the live check, "find duplicates" on a record, merge, transfer requests."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from yingdan.core.choices import Action
from yingdan.core.permissions import get_permissions
from yingdan.core.views import generic

from . import services
from .filtersets import DuplicateRuleFilterSet, TransferRequestFilterSet
from .forms import DecisionForm, DuplicateRuleForm, TransferRequestForm
from .models import DuplicateRule, ObjectType, TransferRequest, TransferStatus
from .tables import DuplicateRuleTable, TransferRequestTable

LIVE_FIELDS = ("name", "company", "phone", "mobile", "email", "credit_code", "customer")


# -- rules ------------------------------------------------------------------------------------------
class DuplicateRuleListView(generic.ObjectListView):
    model = DuplicateRule
    queryset = DuplicateRule.objects.all()
    table = DuplicateRuleTable
    filterset = DuplicateRuleFilterSet
    add_url_name = "duplicates:rule_add"
    create_action = Action.EDIT
    template_name = "duplicates/rule_list.html"


class DuplicateRuleEditView(generic.ObjectEditView):
    model = DuplicateRule
    form_class = DuplicateRuleForm
    success_url_name = "duplicates:rule_list"
    create_action = Action.EDIT
    template_name = "duplicates/rule_edit.html"

    def save(self, form):
        return services.save_rule(self.request.user, form.instance)


class DuplicateRuleDeleteView(generic.ObjectDeleteView):
    model = DuplicateRule
    action = Action.EDIT
    success_url_name = "duplicates:rule_list"

    def delete(self, obj):
        services.delete_rule(self.request.user, obj)


# -- live check -------------------------------------------------------------------------------------
class LiveCheckView(LoginRequiredMixin, View):
    """POSTed by the edit forms while the user types (HTMX); renders the hits panel. Nothing is saved."""

    def post(self, request):
        object_type = request.GET.get("object", "")
        if object_type not in services.MODELS:
            raise Http404
        try:
            exclude = int(request.GET.get("exclude") or 0) or None
        except ValueError:
            exclude = None
        data = {k: request.POST.get(k, "")[:200] for k in LIVE_FIELDS if k in request.POST}
        try:
            hits = services.check_data(request.user, object_type, data, exclude_pk=exclude, limit=5, entry_point="form")
        except PermissionDenied:
            hits = []
        blocked = any(h["action"] == "block" for h in hits)
        return render(request, "duplicates/_live_results.html", {"hits": hits, "blocked": blocked})


# -- find duplicates of a record / merge ----------------------------------------------------------------
def _record(request, object_type: str, pk: int, action=Action.VIEW):
    model = services.MODELS.get(object_type)
    if model is None:
        raise Http404
    if not get_permissions(request.user).has(services.MODULES[object_type], action):
        raise PermissionDenied(_("You do not have permission to do this."))
    return get_object_or_404(model.objects.visible_to(request.user, action), pk=pk)


class FindDuplicatesView(LoginRequiredMixin, View):
    """The record's duplicates by the active rules, with merge (same kind, in scope) or transfer actions."""

    def get(self, request, object_type, pk):
        obj = _record(request, object_type, pk)
        matches = services.find_matches(object_type, services.record_data(obj), exclude_pk=obj.pk, limit=20)
        hits = services.public_matches(request.user, matches)
        perms = get_permissions(request.user)
        module = services.MODULES[object_type]
        can_merge = perms.has(module, Action.EDIT) and perms.has(module, Action.DELETE)
        for hit in hits:
            hit["can_merge"] = can_merge and hit["visible"] and hit["object"] == object_type
        return render(request, "duplicates/find.html", {
            "object": obj, "object_type": object_type, "hits": hits, "can_merge": can_merge,
            "verbose_name": obj._meta.verbose_name,
        })


class MergeView(LoginRequiredMixin, View):
    """Compare two records side by side, pick the survivor and per field the surviving value."""

    def _load(self, request, object_type, pk, other_pk):
        module = services.MODULES.get(object_type)
        if module is None:
            raise Http404
        perms = get_permissions(request.user)
        if not (perms.has(module, Action.EDIT) and perms.has(module, Action.DELETE)):
            raise PermissionDenied(_("You do not have permission to do this."))
        return _record(request, object_type, pk, Action.EDIT), _record(request, object_type, other_pk, Action.EDIT)

    def rows(self, a, b):
        rows = []
        for f in services.merge_fields(type(a)):
            va, vb = getattr(a, f.name), getattr(b, f.name)
            if f.choices:
                va, vb = getattr(a, f"get_{f.name}_display")(), getattr(b, f"get_{f.name}_display")()
            rows.append({"name": f.name, "label": f.verbose_name, "a": va, "b": vb, "same": va == vb,
                         "pick_b": (va in (None, "") and vb not in (None, ""))})
        for d in (a.custom_field_definitions() if hasattr(a, "custom_field_definitions") else []):
            va, vb = (a.custom_fields or {}).get(d.name), (b.custom_fields or {}).get(d.name)
            rows.append({"name": d.form_name, "label": d.display_label, "a": d.display_value(va), "b": d.display_value(vb),
                         "same": va == vb, "pick_b": va in (None, "", []) and vb not in (None, "", [])})
        return rows

    def get(self, request, object_type, pk, other_pk):
        a, b = self._load(request, object_type, pk, other_pk)
        return render(request, "duplicates/merge.html", {"a": a, "b": b, "rows": self.rows(a, b), "object_type": object_type,
                                                         "verbose_name": a._meta.verbose_name})

    def post(self, request, object_type, pk, other_pk):
        a, b = self._load(request, object_type, pk, other_pk)
        survivor, other = (a, b) if request.POST.get("survivor", "a") != "b" else (b, a)
        choices = {}
        for row in self.rows(a, b):
            pick = request.POST.get(f"pick_{row['name']}")
            if pick in ("a", "b"):
                chosen = a if pick == "a" else b
                choices[row["name"]] = "survivor" if chosen.pk == survivor.pk else "other"
        try:
            merged = services.merge(request.user, object_type, survivor.pk, other.pk, choices=choices)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            return HttpResponseRedirect(request.path)
        messages.success(request, _("Merged into “%(obj)s”.") % {"obj": merged})
        return HttpResponseRedirect(merged.get_absolute_url())


# -- transfer requests ----------------------------------------------------------------------------------
class TransferRequestListView(generic.ObjectListView):
    """Requests the user raised or may decide; pending first by default."""

    model = TransferRequest
    queryset = TransferRequest.objects.select_related("requester", "current_owner", "department", "decided_by")
    table = TransferRequestTable
    filterset = TransferRequestFilterSet
    template_name = "duplicates/transfer_list.html"

    def check_module_permission(self, action=None):
        return None  # every signed-in user sees their own requests; visible_to() limits the rows

    def scoped_queryset(self, action=None):
        return self.base_queryset().visible_to(self.request.user)


class TransferRequestCreateView(LoginRequiredMixin, View):
    def get_target(self, request):
        object_type = request.GET.get("object") or request.POST.get("object", "")
        try:
            object_id = int(request.GET.get("id") or request.POST.get("id") or 0)
        except ValueError:
            object_id = 0
        if object_type not in (ObjectType.CUSTOMER, ObjectType.LEAD) or not object_id:
            raise Http404
        module = services.MODULES[object_type]
        if not get_permissions(request.user).has(module, Action.VIEW):
            raise PermissionDenied(_("You do not have permission to do this."))
        matches = services.public_matches(request.user, [services.Match(obj, object_type, obj.pk) for obj in
                                                        services.MODELS[object_type]._base_manager.select_related(*services.RELATED[object_type]).filter(pk=object_id)])
        if not matches:
            raise Http404
        return object_type, object_id, matches[0]

    def get(self, request):
        object_type, object_id, hit = self.get_target(request)
        return render(request, "duplicates/transfer_add.html", {"form": TransferRequestForm(), "hits": [hit], "object_type": object_type, "object_id": object_id})

    def post(self, request):
        object_type, object_id, hit = self.get_target(request)
        form = TransferRequestForm(request.POST)
        if form.is_valid():
            try:
                req = services.request_transfer(request.user, object_type, object_id, form.cleaned_data["reason"])
            except ValidationError as exc:
                generic.apply_validation_error(form, exc)
            else:
                messages.success(request, _("Your request was sent."))
                return HttpResponseRedirect(req.get_absolute_url())
        return render(request, "duplicates/transfer_add.html", {"form": form, "hits": [hit], "object_type": object_type, "object_id": object_id}, status=400)


class TransferRequestDetailView(LoginRequiredMixin, View):
    def get_object(self, request, pk):
        return get_object_or_404(
            TransferRequest.objects.visible_to(request.user).select_related("requester", "current_owner", "department", "decided_by"), pk=pk
        )

    def get(self, request, pk, form=None, status=200):
        req = self.get_object(request, pk)
        can_decide = req.status == TransferStatus.PENDING and services.can_decide(request.user, req)
        return render(request, "duplicates/transfer_detail.html", {
            "object": req, "form": form or DecisionForm(), "can_decide": can_decide,
            "can_cancel": req.status == TransferStatus.PENDING and req.requester_id == request.user.pk,
        }, status=status)

    def post(self, request, pk):
        req = self.get_object(request, pk)
        decision = request.POST.get("decision")
        form = DecisionForm(request.POST)
        if not form.is_valid():
            return self.get(request, pk, form=form, status=400)
        note = form.cleaned_data["note"]
        try:
            if decision == "approve":
                services.approve_transfer(request.user, req, note)
                messages.success(request, _("Request approved; the record now belongs to the requester."))
            elif decision == "refuse":
                services.refuse_transfer(request.user, req, note)
                messages.success(request, _("Request refused."))
            elif decision == "cancel":
                services.cancel_transfer(request.user, req)
                messages.success(request, _("Request cancelled."))
            else:
                raise ValidationError(_("Choose a decision."))
        except PermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(reverse("duplicates:transfer_detail", args=[pk]))

