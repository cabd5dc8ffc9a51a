"""Pool pages: the pools a user can see, a pool's records (claim / bulk assign), a pooled record, pool
configuration, company-wide settings, the recycling preview, and the release/claim actions of record pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from yingdan.core import registry
from yingdan.core.choices import Action
from yingdan.core.models import Lookup
from yingdan.core.permissions import get_permissions
from yingdan.core.text import normalize
from yingdan.core.views.generic import PAGE_SIZES, CappedPaginator, is_htmx, is_local_url

from . import services
from .forms import AssignForm, PoolForm, PoolSettingsForm, ReleaseForm
from .models import Pool, PoolKind, PoolSettings

SORTS = {
    "-id": ("-id",), "id": ("id",), "name": ("name", "id"), "-name": ("-name", "-id"),
    "entered": ("pool_entered_at", "id"), "-entered": ("-pool_entered_at", "-id"),
}
# Columns of a pool's list per kind of record: (field, label attribute source)
COLUMNS = services.RECORD_COLUMNS
RELATED = services.RECORD_RELATED


def _require(user, action=Action.VIEW):
    if not get_permissions(user).has("pools", action):
        raise PermissionDenied(_("You do not have permission to do this."))


def _visible_pool(user, pk) -> Pool:
    _require(user)
    return get_object_or_404(services.pools_visible_to(user), pk=pk)


def _error_text(exc) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("You do not have permission to do this.")


def _back(request, default: str) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    return url if url and is_local_url(url) else default


class PoolListView(LoginRequiredMixin, View):
    def get(self, request):
        _require(request.user)
        pools = list(services.pools_visible_to(request.user).order_by("object_type", "-is_default", "name", "id"))
        counts = services.pool_counts(pools)
        for pool in pools:
            pool.record_count = counts.get(pool.pk, 0)
            pool.user_is_admin = services.is_pool_admin(request.user, pool)
        perms = get_permissions(request.user)
        return render(request, "pools/pool_list.html", {
            "pools": pools,
            "can_create": perms.has("pools", Action.CREATE),
            "can_manage": services.manages_pools(request.user),
        })


class PoolDetailView(LoginRequiredMixin, View):
    """The records of one pool: search, level filter, sort, pages; claim buttons; bulk assign for admins."""

    def get(self, request, pk):
        pool = _visible_pool(request.user, pk)
        model = services.model_for(pool.object_type)
        is_admin = services.is_pool_admin(request.user, pool)
        hidden = services.pool_hidden_fields(request.user, pool, model)
        qs = model.objects.filter(pool_id=pool.pk).select_related(*RELATED[pool.object_type])
        q = request.GET.get("q", "").strip()[:100]
        if q and normalize(q):
            text_filter = registry.text_filters.get(model._meta.label_lower)
            condition = text_filter(q) if text_filter else None
            qs = qs.filter(condition) if condition is not None else (
                qs.filter(search_name__contains=normalize(q)) if text_filter is None else qs.none())
        levels = []
        level_ids = []
        if pool.object_type == "customer":
            levels = list(Lookup.objects.filter(kind="customer_level", is_active=True).order_by("order", "id"))
            level_ids = [int(v) for v in request.GET.getlist("level") if v.isdigit()]
            if level_ids:
                qs = qs.filter(level_id__in=level_ids)
        sort = request.GET.get("sort", "-id")
        if sort not in SORTS:
            sort = "-id"
        qs = qs.order_by(*SORTS[sort])
        try:
            per_page = int(request.GET.get("per_page", 50))
        except ValueError:
            per_page = 50
        per_page = per_page if per_page in PAGE_SIZES else 50
        paginator = CappedPaginator(qs, per_page)
        page = paginator.page(request.GET.get("page", 1))
        columns = []
        for name in COLUMNS[pool.object_type]:
            if name in hidden:
                continue
            try:
                columns.append((name, model._meta.get_field(name).verbose_name))
            except Exception:
                continue
        rows = [{"obj": obj, "cells": [_cell(obj, name) for name, _label in columns]} for obj in page.object_list]
        params = request.GET.copy()
        params.pop("page", None)
        query = params.urlencode()
        params.pop("sort", None)
        cap, count_won = services.hold_cap_for(request.user, model, pool)
        context = {
            "hold_cap": cap, "held": services.held_count(request.user, model, count_won=count_won) if cap is not None else None,
            "claims_today": services.claims_today(request.user, pool) if pool.daily_claim_cap is not None else None,
            "pool": pool, "is_admin": is_admin, "rows": rows, "columns": columns, "page": page, "paginator": paginator,
            "count": paginator.count, "count_capped": getattr(paginator, "capped", False), "per_page": per_page,
            "page_sizes": PAGE_SIZES, "query": query, "query_no_sort": params.urlencode(), "sort": sort, "q": q,
            "levels": levels, "level_ids": level_ids, "can_claim": pool.kind == PoolKind.OPEN or is_admin,
            "assign_form": AssignForm() if is_admin else None,
            "assignees": services.User.objects.filter(is_active=True).order_by("username") if is_admin else None,
        }
        if is_htmx(request) and request.headers.get("HX-Target") == "pool-records":
            return render(request, "pools/_pool_records.html", context)
        return render(request, "pools/pool_detail.html", context)


def _cell(obj, name):
    value = getattr(obj, name, None)
    return "" if value is None else value


class PoolRecordView(LoginRequiredMixin, View):
    """A record as it sits in the pool: the fields the pool does not hide, and the claim button."""

    def get(self, request, pk, object_id):
        pool = _visible_pool(request.user, pk)
        model = services.model_for(pool.object_type)
        obj = get_object_or_404(model.objects.select_related(*RELATED[pool.object_type]), pk=object_id, pool_id=pool.pk)
        is_admin = services.is_pool_admin(request.user, pool)
        hidden = services.pool_hidden_fields(request.user, pool, model)
        skip = {"id", "owner", "department", "pool", "created_by", "search_name", "search_pinyin", "search_initials",
                "dedupe_name", "custom_fields", "recycle_warned_at", "converted_customer", "converted_contact", "converted_at",
                "owner_since", "last_won_at", "updated_at"}
        fields = []
        for f in model._meta.concrete_fields:
            if f.name in skip or f.name in hidden:
                continue
            value = getattr(obj, f.name)
            if f.choices:
                value = getattr(obj, f"get_{f.name}_display")()
            fields.append((f.verbose_name, "" if value is None else value))
        return render(request, "pools/pool_record.html", {
            "pool": pool, "object": obj, "fields": fields, "is_admin": is_admin,
            "can_claim": pool.kind == PoolKind.OPEN or is_admin,
        })


class PoolClaimView(LoginRequiredMixin, View):
    """POST: claim one record of the pool. HTMX gets the row's replacement and a message; others a redirect."""

    def post(self, request, pk, object_id):
        pool = _visible_pool(request.user, pk)
        model = services.model_for(pool.object_type)
        ok, text = True, ""
        obj = None
        try:
            obj = services.claim_from(request.user, model, object_id, pool)
            text = _("“%(name)s” is now yours.") % {"name": obj}
        except (ValidationError, PermissionDenied) as exc:
            ok, text = False, _error_text(exc)
        except Http404:
            ok, text = False, _("This record no longer exists.")
        if is_htmx(request):
            # 200 either way (htmx does not swap error responses): the row shows the outcome
            return render(request, "pools/_claim_result.html", {"ok": ok, "text": text, "object": obj, "object_id": object_id})
        (messages.success if ok else messages.error)(request, text)
        if ok and obj is not None:
            return redirect(obj.get_absolute_url())
        return redirect(_back(request, reverse("pools:pool_detail", args=[pool.pk])))


class PoolAssignView(LoginRequiredMixin, View):
    def post(self, request, pk):
        pool = _visible_pool(request.user, pk)
        model = services.model_for(pool.object_type)
        back = _back(request, reverse("pools:pool_detail", args=[pool.pk]))
        form = AssignForm(request.POST)
        ids = [int(v) for v in request.POST.getlist("pk") if v.isdigit()][:1000]
        if not form.is_valid():
            messages.error(request, _("Choose the user who receives the records."))
            return redirect(back)
        if not ids:
            messages.error(request, _("Select at least one record."))
            return redirect(back)
        try:
            count = services.assign(request.user, model, ids, form.cleaned_data["owner"], pool=pool)
            messages.success(request, _("%(n)d records assigned to %(user)s.") % {"n": count, "user": form.cleaned_data["owner"]})
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _error_text(exc))
        return redirect(back)


class ReleaseView(LoginRequiredMixin, View):
    """POST from a customer/lead page: return it to a pool, with a reason."""

    def post(self, request, object_type, object_id):
        try:
            model = services.model_for(object_type)
        except LookupError:
            raise Http404
        obj = get_object_or_404(model.objects.visible_to(request.user, Action.VIEW), pk=object_id)
        form = ReleaseForm(request.POST)
        form.fields["pool"].queryset = Pool.objects.filter(is_active=True, object_type=object_type)
        if not form.is_valid():
            messages.error(request, _("Give a reason for returning it to the pool."))
            return redirect(obj.get_absolute_url())
        try:
            services.release(request.user, model, [obj.pk], form.cleaned_data["reason"], pool=form.cleaned_data.get("pool"))
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _error_text(exc))
            return redirect(obj.get_absolute_url())
        messages.success(request, _("“%(name)s” was returned to the pool.") % {"name": obj})
        if model.objects.visible_to(request.user, Action.VIEW).filter(pk=obj.pk).exists():
            return redirect(obj.get_absolute_url())
        return redirect(f"{model._meta.app_label}:{model._meta.model_name}_list")


class PoolEditView(LoginRequiredMixin, View):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _require(request.user, Action.EDIT if kwargs.get("pk") else Action.CREATE)
        return super().dispatch(request, *args, **kwargs)

    def get_instance(self):
        pk = self.kwargs.get("pk")
        return get_object_or_404(Pool, pk=pk) if pk else Pool()

    def get(self, request, pk=None):
        pool = self.get_instance()
        form = PoolForm(instance=pool, initial={
            "departments": list(pool.departments.all()) if pool.pk else [],
            "admins": list(pool.admins.all()) if pool.pk else [],
            "members": list(pool.members.all()) if pool.pk else [],
        })
        return render(request, "pools/pool_form.html", {"form": form, "pool": pool})

    def post(self, request, pk=None):
        pool = self.get_instance()
        form = PoolForm(request.POST, instance=pool)
        if form.is_valid():
            try:
                pool = services.save_pool(
                    request.user, form.save(commit=False), departments=form.cleaned_data["departments"],
                    admins=form.cleaned_data["admins"], members=form.cleaned_data["members"],
                )
                messages.success(request, _("Pool “%(name)s” saved.") % {"name": pool})
                return redirect("pools:pool_detail", pool.pk)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]:
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
        return render(request, "pools/pool_form.html", {"form": form, "pool": pool}, status=400)


class PoolDeleteView(LoginRequiredMixin, View):
    def post(self, request, pk):
        _require(request.user, Action.DELETE)
        pool = get_object_or_404(Pool, pk=pk)
        try:
            services.delete_pool(request.user, pool)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
            return redirect("pools:pool_detail", pool.pk)
        messages.success(request, _("Pool deleted."))
        return redirect("pools:pool_list")


class PoolSettingsView(LoginRequiredMixin, View):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _require(request.user, Action.EDIT)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return render(request, "pools/pool_settings.html", {"form": PoolSettingsForm(instance=PoolSettings.get())})

    def post(self, request):
        form = PoolSettingsForm(request.POST, instance=PoolSettings.get())
        if form.is_valid():
            services.save_settings(request.user, form.save(commit=False))
            messages.success(request, _("Pool settings saved."))
            return redirect("pools:pool_list")
        return render(request, "pools/pool_settings.html", {"form": form}, status=400)


class RecyclePreviewView(LoginRequiredMixin, View):
    """What tonight's run would recycle (a dry run), per pool, with a paged list for one pool; and "run now"."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not services.manages_pools(request.user):
            raise PermissionDenied(_("You do not have permission to do this."))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        report = services.recycle(dry_run=True)
        pools = {p.pk: p for p in Pool.objects.all()}
        summary = [{"pool": pools[pid], "object_type": ot, "count": n} for (ot, pid), n in report.per_pool.items() if pid in pools]
        selected = None
        page = paginator = None
        try:
            selected = pools.get(int(request.GET.get("pool", "")))
        except ValueError:
            selected = None
        if selected is None and summary:
            selected = max(summary, key=lambda s: s["count"])["pool"]
        if selected is not None:
            model = services.model_for(selected.object_type)
            mapping = services.pool_map(selected.object_type)
            qs = services.candidates(model, selected, mapping, at=report.now).select_related("owner").order_by("pk")
            paginator = CappedPaginator(qs, 50)
            page = paginator.page(request.GET.get("page", 1))
        return render(request, "pools/recycle_preview.html", {
            "summary": summary, "selected": selected, "page": page, "paginator": paginator,
            "count_capped": getattr(paginator, "capped", False) if paginator else False, "total": report.total,
            "query": f"pool={selected.pk}" if selected else "",
        })

    def post(self, request):
        from .tasks import recycle_now

        recycle_now()
        messages.success(request, _("Recycling has started; records are returned to their pools in the background."))
        return HttpResponseRedirect(reverse("pools:recycle_preview"))
