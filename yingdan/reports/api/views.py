"""/api/v1/reports/<report>/ — the report figures as JSON, with the same filters as the pages.

Query parameters: pipeline, team (department id, sub-departments included), rep (user id), period
(this_month|this_quarter|this_year|last_30_days|last_90_days|all|custom), date_from, date_to (YYYY-MM-DD;
either makes the period custom), group_by (per report), page (stalled). Needs reports:view (else 403); the
figures cover the caller's data scope.
"""

from __future__ import annotations

import json
import logging

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import renderers, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from ..definitions import REPORTS
from ..export import table_csv
from ..filters import PERIOD_CHOICES, ReportFilterForm
from . import serializers

audit = logging.getLogger("yingdan.audit")


class CsvRenderer(renderers.BaseRenderer):
    """Lets a client ask for text/csv; the export answers its CSV itself, an error is rendered as JSON text."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return json.dumps(data, ensure_ascii=False).encode("utf-8")


class ReportSchema(AutoSchema):
    """A report answers one object, not a list (the router calls the GET action `list`)."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


class ReportViewSet(viewsets.ViewSet):
    schema = ReportSchema()
    permission_module = "reports"
    report_key = ""
    response_serializer = None

    action_permissions = {"export": "export"}

    def compute(self, request):
        report = REPORTS[self.report_key]
        form = ReportFilterForm(request.query_params, user=request.user, report=report)
        if not form.is_valid():
            raise drf_serializers.ValidationError({k: [e["message"] for e in v] for k, v in form.errors.get_json_data().items()})
        filters = form.filters()
        return report, filters, report.query(request.user, filters)

    def list(self, request):
        _report, _filters, data = self.compute(request)
        return Response(self.response_serializer(data).data)

    def export_csv(self, request):
        """The report page's CSV download: same table, same formula-safe cells, same audit line."""
        report, filters, data = self.compute(request)
        columns, rows, total = report.table(data)
        body = table_csv(columns, rows, total)
        audit.info("report exported", extra={"actor": request.user.pk, "report": report.key, "filters": filters.as_params(),
                                            "rows": len(rows), "via": "api"})
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="report-{report.key}-{stamp}.csv"'
        return response


def common_parameters(report) -> list:
    params = [
        OpenApiParameter("pipeline", OpenApiTypes.INT, description="Pipeline id" + (" (default: the default pipeline)" if report.pipeline_filter == "required" else "")),
        OpenApiParameter("team", OpenApiTypes.INT, description="Department id; its sub-departments are included"),
        OpenApiParameter("rep", OpenApiTypes.INT, description="User id of the owner"),
    ]
    if report.needs_period:
        params += [
            OpenApiParameter("period", OpenApiTypes.STR, enum=[k for k, _label in PERIOD_CHOICES],
                             description=f"Preset period (default {report.default_period}). {report.period_help}"),
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="First day (makes the period custom)"),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="Last day, inclusive"),
        ]
    if report.group_by:
        params.append(OpenApiParameter("group_by", OpenApiTypes.STR, enum=[k for k, _label in report.group_by],
                                       description=f"Default {report.group_by[0][0]}"))
    if report.key == "stalled":
        params.append(OpenApiParameter("page", OpenApiTypes.INT, description="Page number (25 deals per page)"))
    return params


def make_viewset(key: str, serializer):
    report = REPORTS[key]
    name = "".join(part.title() for part in key.split("-")) + "ReportViewSet"
    def list(self, request):  # a function of its own: extend_schema annotates the function object
        return ReportViewSet.list(self, request)

    list_view = extend_schema(
        summary=str(report.title), description=str(report.description), parameters=common_parameters(report),
        responses=serializer, tags=["reports"], operation_id=f"reports_{key.replace('-', '_')}",
    )(list)
    def export(self, request):
        return ReportViewSet.export_csv(self, request)

    export_view = extend_schema(
        summary=f"{report.title} (CSV)", description="The report's table as CSV (UTF-8 with BOM), like the page's export. "
                                                     "Needs the reports export permission.",
        parameters=common_parameters(report), responses={(200, "text/csv"): OpenApiTypes.BINARY}, tags=["reports"],
        operation_id=f"reports_{key.replace('-', '_')}_export",
    )(action(detail=False, methods=["get"], url_path="export", renderer_classes=[renderers.JSONRenderer, CsvRenderer])(export))
    return type(name, (ReportViewSet,), {"report_key": key, "response_serializer": serializer, "list": list_view,
                                        "export": export_view, "__doc__": str(report.description)})


VIEWSETS = {
    "funnel": make_viewset("funnel", serializers.FunnelSerializer),
    "conversion": make_viewset("conversion", serializers.ConversionSerializer),
    "stage-duration": make_viewset("stage-duration", serializers.StageDurationSerializer),
    "win-rate": make_viewset("win-rate", serializers.WinRateSerializer),
    "forecast": make_viewset("forecast", serializers.ForecastSerializer),
    "stalled": make_viewset("stalled", serializers.StalledSerializer),
    "loss-reasons": make_viewset("loss-reasons", serializers.LossReasonsSerializer),
    "sop-compliance": make_viewset("sop-compliance", serializers.SopComplianceSerializer),
}
