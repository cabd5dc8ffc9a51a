from django.urls import path

from .views import kanban, opportunities, settings

app_name = "opportunities"
urlpatterns = [
    path("", opportunities.OpportunityListView.as_view(), name="opportunity_list"),
    path("add/", opportunities.OpportunityEditView.as_view(), name="opportunity_add"),
    path("bulk/move/", opportunities.OpportunityBulkMoveView.as_view(), name="opportunity_bulk_move"),
    path("bulk/transfer/", opportunities.OpportunityBulkTransferView.as_view(), name="opportunity_bulk_transfer"),
    path("bulk/delete/", opportunities.OpportunityBulkDeleteView.as_view(), name="opportunity_bulk_delete"),
    path("<int:pk>/", opportunities.OpportunityDetailView.as_view(), name="opportunity_detail"),
    path("<int:pk>/edit/", opportunities.OpportunityEditView.as_view(), name="opportunity_edit"),
    path("<int:pk>/delete/", opportunities.OpportunityDeleteView.as_view(), name="opportunity_delete"),
    path("<int:pk>/move/", opportunities.OpportunityMoveView.as_view(), name="opportunity_move"),
    path("<int:pk>/checklist/<int:item_id>/", opportunities.ChecklistTickView.as_view(), name="opportunity_checklist"),
    path("kanban/", kanban.KanbanView.as_view(), name="kanban"),
    path("kanban/<int:pipeline>/column/<int:stage>/", kanban.KanbanColumnView.as_view(), name="kanban_column"),
    path("kanban/<int:pipeline>/summary/", kanban.KanbanSummaryView.as_view(), name="kanban_summary"),
    # settings
    path("settings/pipelines/", settings.PipelineListView.as_view(), name="pipeline_list"),
    path("settings/pipelines/add/", settings.PipelineEditView.as_view(), name="pipeline_add"),
    path("settings/pipelines/<int:pk>/", settings.PipelineDetailView.as_view(), name="pipeline_detail"),
    path("settings/pipelines/<int:pk>/edit/", settings.PipelineEditView.as_view(), name="pipeline_edit"),
    path("settings/pipelines/<int:pk>/delete/", settings.PipelineDeleteView.as_view(), name="pipeline_delete"),
    path("settings/pipelines/<int:pk>/reorder/", settings.StageReorderView.as_view(), name="stage_reorder"),
    path("settings/pipelines/<int:pipeline>/stages/add/", settings.StageEditView.as_view(), name="stage_add"),
    path("settings/stages/<int:pk>/", settings.StageEditView.as_view(), name="stage_edit"),
    path("settings/stages/<int:pk>/delete/", settings.StageDeleteView.as_view(), name="stage_delete"),
    path("settings/stages/<int:stage>/checklist/add/", settings.ChecklistItemEditView.as_view(), name="checklistitem_add"),
    path("settings/checklist/<int:pk>/", settings.ChecklistItemEditView.as_view(), name="checklistitem_edit"),
    path("settings/checklist/<int:pk>/delete/", settings.ChecklistItemDeleteView.as_view(), name="checklistitem_delete"),
    path("settings/loss-reasons/", settings.LossReasonListView.as_view(), name="lossreason_list"),
    path("settings/loss-reasons/add/", settings.LossReasonEditView.as_view(), name="lossreason_add"),
    path("settings/loss-reasons/<int:pk>/", settings.LossReasonEditView.as_view(), name="lossreason_edit"),
    path("settings/competitors/", settings.CompetitorListView.as_view(), name="competitor_list"),
    path("settings/competitors/add/", settings.CompetitorEditView.as_view(), name="competitor_add"),
    path("settings/competitors/<int:pk>/", settings.CompetitorEditView.as_view(), name="competitor_edit"),
]
