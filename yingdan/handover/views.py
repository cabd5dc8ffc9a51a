"""Handover pages: the history (list, detail) and the wizard (pick user → holdings → mode and successors →
preview → confirm → summary). Every rule is in handover.services."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views import View

from yingdan.core import registry
from yingdan.core.choices import Action
from yingdan.core.views import generic
from yingdan.org.models import User

from . import services
from .filtersets import HandoverRecordFilterSet
from .forms import HandoverForm, LeavingUserForm
from .models import HandoverRecord
from .tables import HandoverRecordTable


class HandoverRecordListView(generic.ObjectListView):
    model = HandoverRecord
    queryset = HandoverRecord.objects.select_related("from_user", "created_by").prefetch_related("successors")
    filterset = HandoverRecordFilterSet
    table = HandoverRecordTable
    add_url_name = "handover:handover_add"
    create_action = Action.EDIT  # handing over is editing the leaving user


class HandoverRecordDetailView(generic.ObjectDetailView):
    model = HandoverRecord
    queryset = HandoverRecord.objects.select_related("from_user", "from_user__department", "created_by")
    template_name = "handover/handover_detail.html"
    detail_sections = [
        (_("Handover"), ["from_user", "mode", "successors", "total", "reason", "created_by", "created_at"]),
    ]

    def get_tabs(self, obj):
        tabs = super().get_tabs(obj)
        tabs[0]["template"] = "handover/_tab_summary.html"
        return tabs

    def extra_context(self, obj):
        successors = list(obj.successors.all())
        kinds = []
        for key, data in (obj.counts or {}).items():
            per = data.get("successors", {})
            kinds.append({
                # the kind's label in the reader's language when the kind is still registered
                "key": key, "label": getattr(registry.handover_providers.get(key), "label", None) or data.get("label", key),
                "total": data.get("total", 0),
                "pool": data.get("pool", 0), "cells": [per.get(str(s.pk), 0) for s in successors],
                "details": list((data.get("details") or {}).items()),
            })
        totals = [sum(k["cells"][i] for k in kinds) for i in range(len(successors))]
        return {"successors": successors, "kinds": kinds, "successor_totals": totals}


class HandoverWizardView(generic.ObjectPermissionMixin, View):
    """GET without ?user=: pick the leaving user. With it: their holdings and the handover form.
    POST: preview (HTMX swaps #handover-preview; without JS the whole page), or `_confirm` to execute."""

    model = HandoverRecord
    action = Action.EDIT
    template_name = "handover/handover_wizard.html"

    def leaving_user(self, value):
        try:
            pk = int(value)
        except (TypeError, ValueError):
            return None
        return get_object_or_404(User.objects.visible_to(self.request.user, Action.EDIT), pk=pk)

    def get(self, request):
        self.check_module_permission()
        user = self.leaving_user(request.GET.get("user"))
        if user is None:
            form = LeavingUserForm(actor=request.user)
            return render(request, self.template_name, {**self.model_context(), "step": "pick", "pick_form": form})
        form = HandoverForm(actor=request.user, leaving=user)
        return self.render_step(user, form)

    def post(self, request):
        self.check_module_permission()
        user = self.leaving_user(request.POST.get("user"))
        if user is None:
            messages.error(request, _("Choose the leaving user."))
            return HttpResponseRedirect(request.path)
        form = HandoverForm(request.POST, actor=request.user, leaving=user)
        plan = None
        if form.is_valid():
            data = form.cleaned_data
            try:
                if "_confirm" in request.POST:
                    record = services.execute_handover(
                        request.user, user, data["mode"], list(data["successors"]), data["reason"]
                    )
                    messages.success(request, _("%(user)s's records were handed over and the account was deactivated.")
                                     % {"user": user.display_name})
                    return HttpResponseRedirect(record.get_absolute_url())
                plan = services.plan_handover(request.user, user, data["mode"], list(data["successors"]))
            except ValidationError as exc:
                generic.apply_validation_error(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc) or _("You do not have permission to do this."))
        status = 200 if form.is_valid() and not form.errors else 400
        if generic.is_htmx(request) and request.headers.get("HX-Target") == "handover-preview":
            return render(request, "handover/_preview.html", {"form": form, "plan": plan, "leaving": user}, status=200)
        return self.render_step(user, form, plan, status=status)

    def render_step(self, user, form, plan=None, status=200):
        try:
            holdings = services.holdings(self.request.user, user)
        except ValidationError as exc:  # e.g. the actor picked themself
            messages.error(self.request, " ".join(exc.messages))
            return HttpResponseRedirect(self.request.path)
        context = {
            **self.model_context(), "step": "plan", "leaving": user, "form": form, "plan": plan,
            "holdings": holdings, "holding_total": sum(h["count"] for h in holdings),
        }
        return render(self.request, self.template_name, context, status=status)
