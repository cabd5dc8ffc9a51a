"""Rules: list, builder (HTMX: object → trigger → condition rows → action rows), detail with run log;
sales briefs: list, edit, preview."""

from __future__ import annotations

from django.apps import apps
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View

from yingdan.core.choices import Action
from yingdan.core.permissions import get_permissions
from yingdan.core.views import generic

from . import brief, engine, services
from .actions import ACTION_TYPES
from .filtersets import BriefFilterSet, RuleFilterSet
from .forms import BriefForm
from .models import AutomationRule, BriefSchedule, RuleRun, Trigger
from .tables import BriefTable, RuleTable

OPERATOR_LABELS = {"eq": "=", "ne": "≠", "gt": ">", "lt": "<", "gte": "≥", "lte": "≤"}
SKIP_FIELDS = {"id", "custom_fields", "search_name", "search_pinyin", "search_initials", "dedupe_name", "version"}


def operator_choices():
    extra = {"contains": _("contains"), "empty": _("is empty"), "not_empty": _("is not empty"), "in": _("is one of")}
    return [(op, OPERATOR_LABELS.get(op) or extra[op]) for op in engine.OPERATORS]


def action_choices():
    labels = {"notify": _("Notify"), "create_task": _("Create a task"), "set_field": _("Set a field"),
              "assign": _("Assign the owner (team rule)"), "robot": _("Message a robot"), "webhook": _("Call a webhook")}
    return [(a, labels[a]) for a in ACTION_TYPES]


def field_choices(label: str, *, dates_only: bool = False) -> list[tuple[str, str]]:
    model = engine.model_for(label)
    if model is None:
        return []
    out = []
    for f in model._meta.concrete_fields:
        if f.name in SKIP_FIELDS or f.name.startswith("search_"):
            continue
        if dates_only and not isinstance(f, (models.DateField, models.DateTimeField)):
            continue
        out.append((f.name, str(f.verbose_name)))
    from yingdan.core.models import CustomField

    for cf in CustomField.objects.filter(object_type=label, is_active=True).order_by("order", "id"):
        if dates_only and cf.type not in ("date", "datetime"):
            continue
        out.append((f"custom_fields__{cf.name}", f"{cf.label} *"))
    return out


class SettingsMixin(generic.ObjectPermissionMixin):
    model = AutomationRule

    def require(self, action=Action.VIEW):
        if not get_permissions(self.request.user).has("settings", action):
            raise PermissionDenied(_("You do not have permission to do this."))


# -- rules ------------------------------------------------------------------------------------------------
class RuleListView(generic.ObjectListView):
    model = AutomationRule
    queryset = AutomationRule.objects.select_related("created_by")
    table = RuleTable
    filterset = RuleFilterSet
    add_url_name = "automation:rule_add"
    create_action = Action.EDIT


def _rows_from_rule(rule) -> tuple[list, list]:
    conds = [{"field": c.get("field", ""), "op": c.get("op", "eq"),
              "value": ", ".join(map(str, c["value"])) if isinstance(c.get("value"), list) else ("" if c.get("value") is None else c.get("value"))}
             for c in engine.iter_conditions(rule.conditions)]
    acts = []
    for a in rule.actions or []:
        to = "owner_manager" if a.get("owner") and a.get("manager") else "manager" if a.get("manager") else \
            "users" if a.get("users") else "roles" if a.get("roles") else "owner"
        acts.append({"type": a.get("type", "notify"), "to": to, "user": (a.get("users") or [""])[0],
                     "role": (a.get("roles") or [""])[0], "title": a.get("title", ""), "text": a.get("text", a.get("body", "")),
                     "field": a.get("field", ""), "value": "" if a.get("value") is None else a.get("value"),
                     "department": a.get("department", ""), "robot": a.get("robot", ""), "webhook": a.get("webhook", ""),
                     "due": a.get("due_in_days", "")})
    return conds, acts


def _rows_from_post(data) -> tuple[list, list]:
    conds = [{"field": f, "op": o, "value": v} for f, o, v in
             zip(data.getlist("cond_field"), data.getlist("cond_op"), data.getlist("cond_value"), strict=False)]
    keys = ["type", "to", "user", "role", "title", "text", "field", "value", "department", "robot", "webhook", "due"]
    columns = [data.getlist(f"act_{k}") for k in keys]
    acts = [dict(zip(keys, row, strict=False)) for row in zip(*columns, strict=False)]
    return conds, acts


def _int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _action_spec(row) -> dict:
    t = row.get("type")
    if t == "notify":
        to = row.get("to", "owner")
        spec = {"type": "notify", "owner": to in ("owner", "owner_manager"), "manager": to in ("manager", "owner_manager"),
                "title": row.get("title", ""), "body": row.get("text", "")}
        if to == "users" and _int(row.get("user")):
            spec["users"] = [_int(row.get("user"))]
        if to == "roles" and _int(row.get("role")):
            spec["roles"] = [_int(row.get("role"))]
        return spec
    if t == "create_task":
        return {"type": t, "title": row.get("title", ""), "description": row.get("text", ""), "due_in_days": _int(row.get("due")) or 0}
    if t == "set_field":
        return {"type": t, "field": row.get("field", ""), "value": row.get("value", "")}
    if t == "assign":
        return {"type": t, "department": _int(row.get("department"))}
    if t == "robot":
        return {"type": t, "robot": _int(row.get("robot")), "title": row.get("title", ""), "text": row.get("text", "")}
    if t == "webhook":
        return {"type": t, "webhook": _int(row.get("webhook")), "text": row.get("text", "")}
    return {"type": t}


def _condition_spec(row) -> dict:
    value = row.get("value", "")
    if row.get("op") == "in":
        value = [v.strip() for v in str(value).split(",") if v.strip()]
    elif row.get("op") in ("empty", "not_empty"):
        value = None
    return {"field": row.get("field", ""), "op": row.get("op", "eq"), "value": value}


class RuleBuilderView(SettingsMixin, View):
    """GET renders the builder (HTMX GETs re-render its body from the current inputs: object picked, rows
    added/removed, action type changed); POST validates and saves."""

    def get_rule(self):
        if "pk" in self.kwargs:
            return get_object_or_404(AutomationRule, pk=self.kwargs["pk"])
        return AutomationRule(object_type="customers.customer", trigger=Trigger.CREATED, is_active=True)

    def state_from(self, rule, data=None) -> dict:
        if data is None:
            conds, acts = _rows_from_rule(rule)
            state = {"name": rule.name, "object_type": rule.object_type, "trigger": rule.trigger,
                     "trigger_field": rule.trigger_field, "trigger_value": "" if rule.trigger_value is None else rule.trigger_value,
                     "offset_days": rule.offset_days, "logic": (rule.conditions or {}).get("logic", "and"),
                     "is_active": rule.is_active}
        else:
            conds, acts = _rows_from_post(data)
            state = {k: data.get(k, "") for k in ("name", "object_type", "trigger", "trigger_field", "trigger_value", "offset_days", "logic")}
            state["is_active"] = data.get("is_active") == "on"
            op = data.get("_op", "")
            if op == "add_cond":
                conds.append({"field": "", "op": "eq", "value": ""})
            elif op == "add_act":
                acts.append({"type": data.get("_new_action") or "notify"})
            elif op.startswith("del_cond:") and _int(op[9:]) is not None and _int(op[9:]) < len(conds):
                conds.pop(_int(op[9:]))
            elif op.startswith("del_act:") and _int(op[8:]) is not None and _int(op[8:]) < len(acts):
                acts.pop(_int(op[8:]))
        if not acts and data is None and rule.pk is None:
            acts = [{"type": "notify", "to": "owner"}]
        state["conditions"] = conds
        state["actions"] = acts
        return state

    def context(self, rule, state, errors=None) -> dict:
        from yingdan.org.models import Department, Role

        label = state["object_type"]
        ctx = {"rule": rule, "s": state, "errors": errors or {}, "object_types": engine.object_types(),
               "triggers": Trigger.choices, "fields": field_choices(label), "date_fields": field_choices(label, dates_only=True),
               "operators": operator_choices(), "action_types": action_choices(),
               "users": get_user_model().objects.filter(is_active=True).order_by("username")[:500],
               "roles": Role.objects.order_by("name"), "departments": Department.objects.order_by("path"),
               "robots": [], "webhooks": [], "is_new": rule.pk is None}
        if apps.is_installed("yingdan.integrations"):
            from yingdan.integrations.models import Robot, Webhook

            ctx["robots"], ctx["webhooks"] = Robot.objects.order_by("name"), Webhook.objects.order_by("name")
        if label == "opportunities.opportunity":
            from yingdan.opportunities.models import Stage

            ctx["stages"] = Stage.objects.select_related("pipeline").order_by("pipeline_id", "order")
        return ctx

    def get(self, request, *args, **kwargs):
        self.require(Action.EDIT)
        rule = self.get_rule()
        if request.headers.get("HX-Request") and "object_type" in request.GET:
            state = self.state_from(rule, request.GET)
            return render(request, "automation/_builder.html", self.context(rule, state))
        return render(request, "automation/rule_builder.html", self.context(rule, self.state_from(rule)))

    def post(self, request, *args, **kwargs):
        self.require(Action.EDIT)
        rule = self.get_rule()
        state = self.state_from(rule, request.POST)
        rule.name = state["name"].strip()[:100]
        rule.object_type = state["object_type"]
        rule.trigger = state["trigger"]
        rule.trigger_field = state["trigger_field"] if rule.trigger in (Trigger.FIELD_CHANGED, Trigger.DATE_REACHED) else ""
        tv = state["trigger_value"]
        rule.trigger_value = (tv if tv != "" else None) if rule.trigger in (Trigger.FIELD_CHANGED, Trigger.STAGE_ENTERED) else None
        rule.offset_days = _int(state["offset_days"]) or 0
        rule.conditions = {"logic": "or" if state["logic"] == "or" else "and",
                           "rules": [_condition_spec(c) for c in state["conditions"]]}
        rule.actions = [_action_spec(a) for a in state["actions"]]
        rule.is_active = state["is_active"]
        errors = {}
        if not rule.name:
            errors["name"] = [_("Give the rule a name.")]
        if not errors:
            try:
                services.save_rule(request.user, rule)
            except ValidationError as exc:
                errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        if errors:
            return render(request, "automation/rule_builder.html", self.context(rule, state, errors), status=400)
        messages.success(request, _("Rule saved."))
        return redirect(rule.get_absolute_url())


class RuleDetailView(SettingsMixin, View):
    def get(self, request, pk):
        self.require(Action.VIEW)
        rule = get_object_or_404(AutomationRule.objects.select_related("created_by"), pk=pk)
        runs = RuleRun.objects.filter(rule=rule).order_by("-id")
        result = request.GET.get("result")
        if result:
            runs = runs.filter(result=result)
        page = Paginator(runs, 50).get_page(request.GET.get("page"))
        return render(request, "automation/rule_detail.html", {
            "rule": rule, "page": page, "runs": page.object_list, "result": result or "",
            "object_label": dict(engine.object_types()).get(rule.object_type, rule.object_type),
            "can_edit": get_permissions(request.user).has("settings", Action.EDIT),
        })


class RuleToggleView(SettingsMixin, View):
    def post(self, request, pk):
        self.require(Action.EDIT)
        rule = get_object_or_404(AutomationRule, pk=pk)
        try:
            services.set_rule_active(request.user, rule, request.POST.get("active") == "1")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        if request.headers.get("HX-Request"):
            return HttpResponse(status=204, headers={"HX-Refresh": "true"})
        return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/") else rule.get_absolute_url())


class RuleDeleteView(generic.ObjectDeleteView):
    model = AutomationRule
    action = Action.EDIT
    success_url_name = "automation:rule_list"

    def delete(self, obj):
        services.delete_rule(self.request.user, obj)


# -- sales briefs -----------------------------------------------------------------------------------------
class BriefListView(generic.ObjectListView):
    model = BriefSchedule
    queryset = BriefSchedule.objects.select_related("department")
    table = BriefTable
    filterset = BriefFilterSet
    add_url_name = "automation:brief_add"
    create_action = Action.EDIT


class BriefEditView(generic.ObjectEditView):
    model = BriefSchedule
    form_class = BriefForm
    success_url_name = "automation:brief_list"
    create_action = Action.EDIT

    def save(self, form):
        return services.save_brief(self.request.user, form.instance, users=form.cleaned_data.get("users"))

    def get_success_url(self, obj):
        return obj.get_absolute_url()


class BriefDetailView(SettingsMixin, View):
    def get(self, request, pk):
        self.require(Action.VIEW)
        schedule = get_object_or_404(BriefSchedule.objects.select_related("department"), pk=pk)
        return render(request, "automation/brief_detail.html", {
            "schedule": schedule, "preview": brief.preview(schedule),
            "can_edit": get_permissions(request.user).has("settings", Action.EDIT),
        })


class BriefToggleView(SettingsMixin, View):
    def post(self, request, pk):
        self.require(Action.EDIT)
        schedule = get_object_or_404(BriefSchedule, pk=pk)
        schedule.is_active = request.POST.get("active") == "1"
        services.save_brief(request.user, schedule)
        return redirect(schedule.get_absolute_url())


class BriefDeleteView(generic.ObjectDeleteView):
    model = BriefSchedule
    action = Action.EDIT
    success_url_name = "automation:brief_list"

    def delete(self, obj):
        services.delete_brief(self.request.user, obj)
