import calendar
import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _
from django.views import View

from yingdan.core.choices import Action
from yingdan.core.permissions import get_permissions
from yingdan.core.views import generic
from yingdan.core.views.generic import is_local_url

from . import services
from .filtersets import TaskFilterSet
from .forms import TaskForm, TaskReassignForm
from .models import Task
from .tables import TaskTable


class TaskListView(generic.ObjectListView):
    """Team tasks: every task in the user's data scope."""

    model = Task
    queryset = Task.objects.select_related("owner", "department", "target_type").defer("description")
    filterset = TaskFilterSet
    table = TaskTable
    add_url_name = "tasks:task_add"
    bulk_actions = [
        ("tasks:task_bulk_reassign", _("Reassign"), Action.TRANSFER),
        ("tasks:task_bulk_delete", _("Delete"), Action.DELETE),
    ]


class MyTaskListView(TaskListView):
    """My tasks: assigned to me, open first by due time."""

    list_key = "tasks.task.mine"

    def base_queryset(self):
        return super().base_queryset().filter(owner=self.request.user)


class TaskDetailView(generic.ObjectDetailView):
    model = Task
    queryset = Task.objects.select_related("owner", "department", "created_by", "target_type")
    template_name = "tasks/task_detail.html"
    detail_sections = [
        (_("Task"), ["title", "description", "status", "priority", "due_at", "completed_at"]),
        (_("Assignment"), ["owner", "department", "collaborators", "created_by", "created_at", "updated_at"]),
        (_("Repeat"), ["recurrence", "recurrence_interval", "recurrence_until"]),
    ]
    edit_url_name = "tasks:task_edit"

    def extra_context(self, obj):
        perms = get_permissions(self.request.user)
        return {
            "edit_url": self.get_edit_url(obj),
            "can_edit": perms.has("tasks", Action.EDIT),
            "delete_url": reverse("tasks:task_delete", args=[obj.pk]) if perms.has("tasks", Action.DELETE) else None,
            "target": obj.target,
        }


class TaskEditView(generic.ObjectEditView):
    model = Task
    form_class = TaskForm

    def get_initial(self):
        initial = super().get_initial()
        if self.request.GET.get("target_type"):
            initial["target_type"] = self.request.GET["target_type"]
        if self.request.GET.get("due"):
            day = parse_date(self.request.GET["due"])
            if day:
                initial["due_at"] = datetime.datetime.combine(day, datetime.time(9, 0))
        return initial

    def save(self, form):
        return services.save_task(
            self.request.user, form.instance,
            collaborators=form.cleaned_data.get("collaborators") if "collaborators" in form.fields else None,
        )


class TaskDeleteView(generic.ObjectDeleteView):
    model = Task
    success_url_name = "tasks:my_tasks"

    def delete(self, obj):
        services.delete_task(self.request.user, obj)


class TaskStatusView(generic.ObjectPermissionMixin, View):
    """POST status=done|open|in_progress|cancelled (complete creates the next occurrence of a repeating task)."""

    model = Task
    action = Action.EDIT

    def post(self, request, pk):
        task = self.get_object()
        try:
            services.set_status(request.user, task, request.POST.get("status", ""))
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, _("Task updated."))
        nxt = request.POST.get("next", "")
        return HttpResponseRedirect(nxt if is_local_url(nxt) else task.get_absolute_url())


class TaskBulkReassignView(generic.BulkActionView):
    model = Task
    action = Action.TRANSFER
    form_class = TaskReassignForm
    title = _("Reassign tasks")
    success_url_name = "tasks:task_list"

    def apply(self, ids, form):
        return services.reassign_tasks(self.request.user, ids, form.cleaned_data["owner"])


class TaskBulkDeleteView(generic.BulkActionView):
    model = Task
    action = Action.DELETE
    title = _("Delete tasks")
    success_url_name = "tasks:task_list"

    def apply(self, ids, form):
        return services.delete_tasks(self.request.user, ids)


# -- calendar -------------------------------------------------------------------------------------------------
class CalendarView(generic.ObjectPermissionMixin, View):
    """A week or month grid of the tasks in scope (mine by default; ?scope=team for the team), server-rendered;
    the arrows navigate with HTMX, a card dragged onto another day is rescheduled (same time of day)."""

    model = Task

    def get(self, request):
        qs = self.scoped_queryset()
        mode = "week" if request.GET.get("mode") == "week" else "month"
        team = request.GET.get("scope") == "team"
        if not team:
            qs = qs.filter(owner=request.user)
        day = parse_date(request.GET.get("date", "") or "") or timezone.localdate()
        if mode == "week":
            start = day - datetime.timedelta(days=day.weekday())
            end = start + datetime.timedelta(days=7)
            prev_day, next_day = start - datetime.timedelta(days=7), end
        else:
            first = day.replace(day=1)
            start = first - datetime.timedelta(days=first.weekday())
            last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
            end = last + datetime.timedelta(days=7 - last.weekday())
            prev_day = (first - datetime.timedelta(days=1)).replace(day=1)
            next_day = last + datetime.timedelta(days=1)
        tz = timezone.get_current_timezone()
        lo = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
        hi = datetime.datetime.combine(end, datetime.time.min, tzinfo=tz)
        tasks = list(qs.filter(due_at__gte=lo, due_at__lt=hi).select_related("owner").order_by("due_at", "id")[:2000])
        by_day: dict = {}
        for task in tasks:
            by_day.setdefault(timezone.localdate(task.due_at), []).append(task)
        days = [start + datetime.timedelta(days=i) for i in range((end - start).days)]
        per_day = 30 if mode == "week" else 8  # a busy team day shows its first tasks and "+N more" (the list)
        weeks = [[{"date": d, "tasks": by_day.get(d, [])[:per_day], "more": max(0, len(by_day.get(d, [])) - per_day),
                   "in_month": mode == "week" or d.month == day.month}
                  for d in days[i:i + 7]] for i in range(0, len(days), 7)]
        context = {
            **self.model_context(), "weeks": weeks, "mode": mode, "team": team, "day": day, "today": timezone.localdate(),
            "prev_day": prev_day, "next_day": next_day, "start": start, "end": end - datetime.timedelta(days=1),
            "weekdays": [calendar.day_abbr[i] for i in range(7)],
            "can_edit": get_permissions(request.user).has("tasks", Action.EDIT),
            "can_add": get_permissions(request.user).has("tasks", Action.CREATE),
        }
        template = "tasks/_calendar_grid.html" if request.headers.get("HX-Request") else "tasks/calendar.html"
        return render(request, template, context)


class TaskRescheduleView(generic.ObjectPermissionMixin, View):
    """POST date=YYYY-MM-DD: move the task to that day, keeping its time of day (calendar drag and drop)."""

    model = Task
    action = Action.EDIT

    def post(self, request, pk):
        task = get_object_or_404(self.scoped_queryset(), pk=pk)
        day = parse_date(request.POST.get("date", "") or "")
        if day is None:
            return render(request, "tasks/_reschedule_result.html", {"ok": False}, status=400)
        local = timezone.localtime(task.due_at) if task.due_at else None
        at = datetime.time(local.hour, local.minute) if local else datetime.time(9, 0)
        due = datetime.datetime.combine(day, at, tzinfo=timezone.get_current_timezone())
        try:
            services.reschedule_task(request.user, task, due)
        except (ValidationError, PermissionDenied):
            return render(request, "tasks/_reschedule_result.html", {"ok": False}, status=400)
        return render(request, "tasks/_reschedule_result.html", {"ok": True, "task": task})
