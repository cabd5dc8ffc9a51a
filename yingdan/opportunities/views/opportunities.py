"""Opportunity pages: list, detail (stage bar, checklist, history), edit, delete, the move (gate) endpoint,
checklist ticks and the bulk actions."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yingdan.core.choices import Action
from yingdan.core.exceptions import ObjectNotVisible
from yingdan.core.forms import OwnerChangeForm
from yingdan.core.permissions import get_permissions
from yingdan.core.views import generic

from .. import services
from ..filtersets import OpportunityFilterSet
from ..forms import (
    ChecklistTickForm,
    GateForm,
    OpportunityBulkMoveForm,
    OpportunityForm,
)
from ..kanban import CardRenderer, is_stalled
from ..models import ChecklistItem, Opportunity, Stage, StageChange
from ..tables import OpportunityTable

OPP_RELATED = ("customer", "owner", "department", "pipeline", "stage", "source")


class OpportunityListView(generic.ObjectListView):
    model = Opportunity
    queryset = Opportunity.objects.select_related(*OPP_RELATED).defer("description", "customer__remarks")
    filterset = OpportunityFilterSet
    table = OpportunityTable
    add_url_name = "opportunities:opportunity_add"
    bulk_actions = [
        ("opportunities:opportunity_bulk_move", gettext_lazy("Move stage"), Action.EDIT),
        ("opportunities:opportunity_bulk_transfer", gettext_lazy("Change owner"), Action.TRANSFER),
        ("opportunities:opportunity_bulk_delete", gettext_lazy("Delete"), Action.DELETE),
    ]


class OpportunityDetailView(generic.ObjectDetailView):
    model = Opportunity
    queryset = Opportunity.objects.select_related(*OPP_RELATED, "created_by", "loss_reason__parent", "competitor")
    template_name = "opportunities/opportunity_detail.html"
    detail_sections = [
        (gettext_lazy("Basic information"), ["name", "customer", "contacts", "pipeline", "stage", "source"]),
        (gettext_lazy("Value"), ["amount", "currency", "probability", "expected_close", "state", "closed_at"]),
        (gettext_lazy("Ownership"), ["owner", "department", "collaborators", "created_by", "created_at", "updated_at"]),
        (gettext_lazy("Details"), ["next_step", "description", "loss_reason", "competitor", "loss_note"]),
    ]
    tabs = [("history", gettext_lazy("Stage history"), "opportunities/_tab_history.html")]
    edit_url_name = "opportunities:opportunity_edit"

    def extra_context(self, obj):
        perms = get_permissions(self.request.user)
        stages = list(Stage.objects.filter(pipeline_id=obj.pipeline_id, is_active=True).order_by("order", "id"))
        can_edit = perms.has("opportunities", Action.EDIT) and Opportunity.objects.visible_to(self.request.user, Action.EDIT).filter(pk=obj.pk).exists()
        return {
            "edit_url": self.get_edit_url(obj) if can_edit else None,
            "delete_url": reverse("opportunities:opportunity_delete", args=[obj.pk]) if perms.has("opportunities", Action.DELETE) else None,
            "stages": stages,
            "current_index": next((i for i, s in enumerate(stages) if s.pk == obj.stage_id), -1),
            "checklist": services.checklist_status(obj),
            "can_edit": can_edit,
            "stalled": is_stalled(obj, obj.stage),
        }

    def tab_history(self, obj):
        return {"history": StageChange.objects.filter(opportunity=obj).select_related("from_stage", "to_stage", "changed_by").order_by("-changed_at", "-id")[:200]}


class OpportunityEditView(generic.ObjectEditView):
    model = Opportunity
    form_class = OpportunityForm
    template_name = "opportunities/opportunity_edit.html"

    def get_initial(self):
        initial = super().get_initial()
        if "pipeline" in self.request.GET:
            initial["pipeline"] = self.request.GET["pipeline"]
        return initial

    def save(self, form):
        return services.save_opportunity(
            self.request.user, form.instance,
            contacts=form.cleaned_data.get("contacts") if "contacts" in form.fields and not form.fields["contacts"].disabled else None,
            collaborators=form.cleaned_data.get("collaborators") if "collaborators" in form.fields else None,
            custom_fields=form.custom_field_values(),
            confirm_duplicates=getattr(self, "confirm_duplicates", False),
        )


class OpportunityDeleteView(generic.ObjectDeleteView):
    model = Opportunity
    success_url_name = "opportunities:opportunity_list"

    def delete(self, obj):
        services.delete_opportunity(self.request.user, obj)


def error_messages(exc: ValidationError) -> dict:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


def error_codes(exc: ValidationError) -> dict:
    """{key: [codes]} of a (dict) ValidationError."""
    if not hasattr(exc, "error_dict"):
        return {"__all__": [e.code for e in exc.error_list]}
    return {k: [e.code for e in v] for k, v in exc.error_dict.items()}


class OpportunityMoveView(generic.ObjectPermissionMixin, generic.View):
    """POST stage (+ version, gate form fields): move through the gate. HTMX: on success the card (kanban) or a
    redirect (detail page); on refusal the gate form, shown in the page's modal; the card snaps back."""

    model = Opportunity
    action = Action.EDIT

    def get(self, request, pk):
        # The gate form for a chosen target before trying (used by the detail page's "lost" button).
        opp = self.get_object()
        stage = get_object_or_404(Stage, pk=request.GET.get("stage"), pipeline_id=opp.pipeline_id)
        return self.refused(opp, stage, {}, form=None)

    def post(self, request, pk):
        opp = self.get_object()
        from_kanban = request.POST.get("_from") == "kanban"
        stage = Stage.objects.filter(pk=request.POST.get("stage") or 0).first() if (request.POST.get("stage") or "").isdigit() else None
        if stage is None:
            return self.refused(opp, None, {"stage": [_("Choose a stage.")]})
        version = request.POST.get("version")
        version = int(version) if version and version.isdigit() else None
        kwargs = {}
        form = None
        if request.POST.get("_gate") == "1":
            try:
                missing = json.loads(request.POST.get("_missing") or "{}")
            except ValueError:
                missing = {}
            if not isinstance(missing, dict):
                missing = {}
            form = GateForm(request.POST, request.FILES, opportunity=opp, to_stage=stage, missing=missing, user=request.user)
            if not form.is_valid():
                return self.refused(opp, stage, missing, form=form, version=version)
            try:
                kwargs = form.move_kwargs(request.user)
            except ValidationError as exc:
                for msgs in error_messages(exc).values():
                    form.add_error(None, msgs)
                return self.refused(opp, stage, missing, form=form, version=version)
        try:
            opp = services.move_opportunity(request.user, opp, stage, expected_version=version, **kwargs)
        except (ObjectNotVisible, PermissionDenied):
            raise
        except ValidationError as exc:
            return self.refused(opp, stage, error_messages(exc), codes=error_codes(exc), version=version)
        if generic.is_htmx(request) and from_kanban:
            opp = Opportunity.objects.select_related("customer", "owner", "stage").get(pk=opp.pk)
            response = render(request, "opportunities/_kanban_card.html", {"card_html": CardRenderer()(opp)})
            response["HX-Retarget"] = f"#kanban-card-{opp.pk}"
            response["HX-Reswap"] = "outerHTML"
            response["HX-Trigger"] = json.dumps({"kanban:moved": {"id": opp.pk, "stage": opp.stage_id}})
            return response
        messages.success(request, _("Moved “%(obj)s” to %(stage)s.") % {"obj": opp, "stage": opp.stage.name})
        url = opp.get_absolute_url()
        if generic.is_htmx(request):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return HttpResponseRedirect(url)

    @staticmethod
    def stages(opp):
        return list(Stage.objects.filter(pipeline_id=opp.pipeline_id, is_active=True).order_by("order", "id"))

    def refused(self, opp, stage, missing: dict, *, form=None, codes=None, version=None):
        request = self.request
        missing = {k: list(v) for k, v in missing.items()}
        stale = "version" in missing
        if form is None and stage is not None and not stale:
            form = GateForm(opportunity=opp, to_stage=stage, missing=missing, user=request.user)
        context = {
            "object": opp, "to_stage": stage, "missing": missing, "missing_json": json.dumps(missing, ensure_ascii=False),
            "form": form, "stale": stale, "version": opp.version if not stale else version,
            "from": request.POST.get("_from") or request.GET.get("_from", ""),
            "other_errors": {k: v for k, v in missing.items() if form is None or (k not in form.fields and not k.startswith("checklist_"))},
        }
        if not generic.is_htmx(request):
            return render(request, "opportunities/move.html", context, status=400)
        response = render(request, "opportunities/_gate_form.html", context)
        response["HX-Retarget"] = "#gate-modal-body"
        response["HX-Reswap"] = "innerHTML"
        response["HX-Trigger"] = json.dumps({"gate:refused": {"id": opp.pk, "stale": stale}})
        return response


class ChecklistTickView(generic.ObjectPermissionMixin, generic.View):
    """Tick or untick a step of the deal's current stage (with a note / an attachment)."""

    model = Opportunity
    action = Action.EDIT

    def post(self, request, pk, item_id):
        opp = self.get_object()
        item = get_object_or_404(ChecklistItem, pk=item_id)
        form = ChecklistTickForm(request.POST, request.FILES)
        error = None
        if form.is_valid():
            try:
                attachment = None
                if form.cleaned_data.get("attachment"):
                    attachment = services.attach_file(request.user, opp, form.cleaned_data["attachment"])
                services.complete_checklist_item(request.user, opp, item, note=form.cleaned_data.get("note", ""),
                                                 attachment=attachment, done=request.POST.get("done", "1") == "1")
            except ValidationError as exc:
                error = " ".join(m for msgs in error_messages(exc).values() for m in msgs)
        else:
            error = " ".join(m for msgs in form.errors.values() for m in msgs)
        if not generic.is_htmx(request):
            if error:
                messages.error(request, error)
            return HttpResponseRedirect(opp.get_absolute_url())
        opp.refresh_from_db()
        context = {"object": opp, "checklist": services.checklist_status(opp), "can_edit": True, "checklist_error": error, "error_item": item.pk}
        return render(request, "opportunities/_checklist.html", context, status=200)


class OpportunityBulkTransferView(generic.BulkActionView):
    model = Opportunity
    action = Action.TRANSFER
    form_class = OwnerChangeForm
    title = gettext_lazy("Change owner")
    success_url_name = "opportunities:opportunity_list"

    def apply(self, ids, form):
        return services.transfer_opportunities(self.request.user, ids, form.cleaned_data["owner"])


class OpportunityBulkDeleteView(generic.BulkActionView):
    model = Opportunity
    action = Action.DELETE
    title = gettext_lazy("Delete opportunities")
    success_url_name = "opportunities:opportunity_list"

    def apply(self, ids, form):
        return services.delete_opportunities(self.request.user, ids)


class OpportunityBulkMoveView(generic.BulkActionView):
    """Move several deals; each passes the gate on its own, the result page lists every row."""

    model = Opportunity
    action = Action.EDIT
    form_class = OpportunityBulkMoveForm
    title = gettext_lazy("Move stage")
    success_url_name = "opportunities:opportunity_list"

    def post(self, request, *args, **kwargs):
        if "_apply" not in request.POST:
            return super().post(request, *args, **kwargs)
        self.check_module_permission()
        form = self.form_class(request.POST, user=request.user)
        ids = self.selected_ids()
        if not form.is_valid() or not ids:
            return super().post(request, *args, **kwargs)
        results = services.bulk_move(request.user, ids, form.cleaned_data["stage"])
        moved = sum(1 for r in results if r["ok"])
        return render(request, "opportunities/bulk_move_result.html", {
            **self.model_context(), "results": results, "stage": form.cleaned_data["stage"], "moved": moved,
            "refused": len(results) - moved, "return_url": self.return_url(), "title": self.title,
        })
