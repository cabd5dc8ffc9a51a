"""Report pages: the index, one page per report (filter bar, ECharts chart, data table) and its CSV export.

Access: the reports module's `view` action (else 403); `export` for the CSV (else 403). The figures come from
`queries`, scoped to what the user may see.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from yingdan.core.choices import Action
from yingdan.core.permissions import get_permissions
from yingdan.core.views.generic import is_htmx

from .definitions import REPORTS
from .export import table_csv
from .filters import ReportFilterForm

audit = logging.getLogger("yingdan.audit")


class ReportPermissionMixin(LoginRequiredMixin):
    action = Action.VIEW

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not get_permissions(request.user).has("reports", self.action):
            raise PermissionDenied(_("You do not have permission to do this."))
        return super().dispatch(request, *args, **kwargs)


class ReportIndexView(ReportPermissionMixin, View):
    def get(self, request):
        return render(request, "reports/index.html", {"reports": list(REPORTS.values())})


class ReportMixin(ReportPermissionMixin):
    def get_report(self):
        report = REPORTS.get(self.kwargs["report"])
        if report is None:
            raise Http404
        return report

    def compute(self, request, report):
        form = ReportFilterForm(request.GET, user=request.user, report=report)
        if not form.is_valid():
            return form, None, None
        filters = form.filters()
        return form, filters, report.query(request.user, filters)


class ReportView(ReportMixin, View):
    def get(self, request, report):
        report = self.get_report()
        form, filters, data = self.compute(request, report)
        context = {"report": report, "reports": list(REPORTS.values()), "form": form, "filters": filters, "data": data}
        if data is not None:
            columns, rows, total = report.table(data)
            params = filters.as_params()
            context.update({
                "columns": columns, "rows": rows, "total": total, "chart": report.chart(data),
                "can_export": get_permissions(request.user).has("reports", Action.EXPORT),
                "query": urlencode(params),
            })
        status = 200 if data is not None else 400
        if is_htmx(request) and request.headers.get("HX-Target") == "report-body":
            return render(request, "reports/_report_body.html", context, status=status)
        return render(request, "reports/report.html", context, status=status)


class ReportExportView(ReportMixin, View):
    action = Action.EXPORT

    def get(self, request, report):
        report = self.get_report()
        form, filters, data = self.compute(request, report)
        if data is None:
            return HttpResponse(_("Invalid filters."), status=400, content_type="text/plain; charset=utf-8")
        columns, rows, total = report.table(data)
        body = table_csv(columns, rows, total)
        audit.info("report exported", extra={"actor": request.user.pk, "report": report.key, "filters": filters.as_params(),
                                            "rows": len(rows)})
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="report-{report.key}-{stamp}.csv"'
        return response
