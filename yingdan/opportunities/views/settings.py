"""Settings pages: pipelines, their stages (drag to reorder) and SOP checklists; loss reasons; competitors."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from yingdan.core.choices import Action
from yingdan.core.permissions import get_permissions
from yingdan.core.views import generic

from .. import services
from ..filtersets import CompetitorFilterSet, LossReasonFilterSet, PipelineFilterSet
from ..forms import (
    ChecklistItemForm,
    CompetitorForm,
    LossReasonForm,
    PipelineForm,
    StageDeleteForm,
    StageForm,
)
from ..models import ChecklistItem, Competitor, LossReason, Opportunity, Pipeline, Stage
from ..tables import CompetitorTable, LossReasonTable, PipelineTable


# -- pipelines -----------------------------------------------------------------------------------------
class PipelineListView(generic.ObjectListView):
    model = Pipeline
    queryset = Pipeline.objects.all()
    filterset = PipelineFilterSet
    table = PipelineTable
    add_url_name = "opportunities:pipeline_add"


class PipelineDetailView(generic.ObjectPermissionMixin, generic.View):
    model = Pipeline

    def get(self, request, pk):
        pipeline = self.get_object()
        stages = list(Stage.objects.filter(pipeline=pipeline).annotate(deals=Count("opportunities")).order_by("-is_active", "order", "id"))
        items = {}
        for item in ChecklistItem.objects.filter(stage__pipeline=pipeline).order_by("order", "id"):
            items.setdefault(item.stage_id, []).append(item)
        for stage in stages:
            stage.items = items.get(stage.pk, [])
            stage.required_labels = [label for name, label in services.requirable_fields() if name in (stage.required_fields or [])]
        perms = get_permissions(request.user)
        return render(request, "opportunities/pipeline_detail.html", {
            **self.model_context(), "object": pipeline, "stages": stages,
            "can_edit": perms.has("pipelines", Action.EDIT), "can_delete": perms.has("pipelines", Action.DELETE),
            "departments": pipeline.departments.all(),
        })


class PipelineEditView(generic.ObjectEditView):
    model = Pipeline
    form_class = PipelineForm

    def save(self, form):
        return services.save_pipeline(self.request.user, form.instance, departments=form.cleaned_data.get("departments"))


class PipelineDeleteView(generic.ObjectDeleteView):
    model = Pipeline
    success_url_name = "opportunities:pipeline_list"

    def delete(self, obj):
        services.delete_pipeline(self.request.user, obj)


class StageReorderView(generic.ObjectPermissionMixin, generic.View):
    """POST stage ids in their new order (SortableJS on the pipeline page)."""

    model = Pipeline
    action = Action.EDIT

    def post(self, request, pk):
        pipeline = self.get_object()
        try:
            services.reorder_stages(request.user, pipeline, [i for i in request.POST.getlist("stage") if i.isdigit()])
        except ValidationError as exc:
            if generic.is_htmx(request):
                response = render(request, "opportunities/_reorder_error.html", {"errors": exc.messages}, status=200)
                response["HX-Retarget"] = "#stage-order-errors"
                return response
            messages.error(request, " ".join(exc.messages))
        if generic.is_htmx(request):
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        return HttpResponseRedirect(pipeline.get_absolute_url())


# -- stages ----------------------------------------------------------------------------------------------
class StageEditView(generic.ObjectEditView):
    model = Stage
    form_class = StageForm
    create_action = Action.EDIT

    def new_instance(self):
        pipeline = get_object_or_404(Pipeline, pk=self.kwargs["pipeline"])
        return Stage(pipeline=pipeline, order=0)

    def get_instance(self):
        if "pk" in self.kwargs:
            return self.get_object(Action.EDIT)
        self.check_module_permission(Action.EDIT)
        return self.new_instance()

    def save(self, form):
        return services.save_stage(self.request.user, form.instance)

    def get_success_url(self, obj):
        return obj.pipeline.get_absolute_url()


class StageDeleteView(generic.ObjectPermissionMixin, generic.View):
    """A stage holding deals: choose where they go, then it is removed (or deactivated if it has history)."""

    model = Stage
    action = Action.DELETE

    def get(self, request, pk):
        stage = self.get_object()
        return self.render(stage, StageDeleteForm(stage=stage))

    def post(self, request, pk):
        stage = self.get_object()
        form = StageDeleteForm(request.POST, stage=stage)
        if form.is_valid():
            try:
                moved = services.delete_stage(request.user, stage, move_to=form.cleaned_data.get("move_to"))
            except ValidationError as exc:
                generic.apply_validation_error(form, exc)
            else:
                messages.success(request, _("Stage “%(stage)s” deleted; %(n)d opportunities moved.") % {"stage": stage.name, "n": moved})
                return HttpResponseRedirect(stage.pipeline.get_absolute_url())
        return self.render(stage, form, status=400)

    def render(self, stage, form, status=200):
        return render(self.request, "opportunities/stage_delete.html", {
            **self.model_context(), "object": stage, "form": form, "deals": Opportunity.objects.filter(stage=stage).count(),
        }, status=status)


class ChecklistItemEditView(generic.ObjectEditView):
    model = ChecklistItem
    form_class = ChecklistItemForm
    create_action = Action.EDIT

    def get_instance(self):
        if "pk" in self.kwargs:
            return self.get_object(Action.EDIT)
        self.check_module_permission(Action.EDIT)
        stage = get_object_or_404(Stage, pk=self.kwargs["stage"])
        return ChecklistItem(stage=stage, order=(stage.checklist.count() + 1) * 10)

    def save(self, form):
        return services.save_checklist_item(self.request.user, form.instance)

    def get_success_url(self, obj):
        return obj.stage.pipeline.get_absolute_url()


class ChecklistItemDeleteView(generic.ObjectPermissionMixin, generic.View):
    model = ChecklistItem
    action = Action.EDIT

    def post(self, request, pk):
        item = self.get_object()
        services.delete_checklist_item(request.user, item)
        messages.success(request, _("Checklist item removed."))
        return HttpResponseRedirect(item.stage.pipeline.get_absolute_url())


# -- loss reasons and competitors --------------------------------------------------------------------------
class LossReasonListView(generic.ObjectListView):
    model = LossReason
    queryset = LossReason.objects.select_related("parent")
    table = LossReasonTable
    add_url_name = "opportunities:lossreason_add"
    create_action = Action.EDIT

    filterset = LossReasonFilterSet

    def get(self, request, *args, **kwargs):
        if not request.GET.get("sort"):
            request.GET = request.GET.copy()
            request.GET["sort"] = "name"
        return super().get(request, *args, **kwargs)


class LossReasonEditView(generic.ObjectEditView):
    model = LossReason
    form_class = LossReasonForm
    create_action = Action.EDIT
    success_url_name = "opportunities:lossreason_list"

    def save(self, form):
        return services.save_loss_reason(self.request.user, form.instance)


class CompetitorListView(generic.ObjectListView):
    model = Competitor
    queryset = Competitor.objects.all()
    table = CompetitorTable
    add_url_name = "opportunities:competitor_add"
    create_action = Action.EDIT

    filterset = CompetitorFilterSet


class CompetitorEditView(generic.ObjectEditView):
    model = Competitor
    form_class = CompetitorForm
    create_action = Action.EDIT
    success_url_name = "opportunities:competitor_list"

    def save(self, form):
        return services.save_competitor(self.request.user, form.instance)
