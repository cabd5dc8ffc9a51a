"""Generic views: a concrete list/detail/edit/delete/bulk view is a few declarative lines.

Every queryset comes from `Model.objects.visible_to(user, action)`: a missing module permission is a 403,
an object outside the scope is a 404. Writes go through the service function the view names.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views import View

from .. import changelog, registry, services, tables
from ..choices import Action, FieldAccess
from ..models import ObjectChange, SavedView
from ..permissions import get_permissions

PAGE_SIZES = (25, 50, 100, 200)
COUNT_CAP = 5_000  # an exact total above this costs more than it tells; the list shows "5,000+"


def is_local_url(url: str) -> bool:
    """A same-site path to redirect to (refuses //host, /\\host, schemes and control characters)."""
    return url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None)


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


class CappedPaginator(Paginator):
    """Counts at most COUNT_CAP + 1 rows; beyond that the list shows "5,000+" and next/previous still work."""

    @cached_property
    def count(self):
        capped = self.object_list.order_by()[: COUNT_CAP + 1].count()
        self.capped = capped > COUNT_CAP
        return capped

    def validate_number(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError):
            number = 1
        number = max(number, 1)
        count = self.count  # sets `capped`
        if not self.capped and count:
            number = min(number, self.num_pages)
        return number

    def page(self, number):
        """Deferred join: find the page's primary keys first (a narrow, index-friendly query that sorts only
        ids), then load those rows with their related objects. Sorting full rows of a large scope is what
        makes naive OFFSET pages slow."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if self.object_list.query.annotation_select:
            # Annotated lists (counts per row) are small tables; load them directly.
            rows = list(self.object_list[bottom : bottom + self.per_page + 1])
            page = self._get_page(rows[: self.per_page], number, self)
            page.has_more = len(rows) > self.per_page
            return page
        ids = list(self.object_list.values_list("pk", flat=True)[bottom : bottom + self.per_page + 1])
        rows = []
        if ids:
            source = self.object_list
            qs = source.model._default_manager.all()
            qs.query.select_related = source.query.select_related
            qs.query.deferred_loading = source.query.deferred_loading
            qs._prefetch_related_lookups = source._prefetch_related_lookups
            by_id = qs.in_bulk(ids[: self.per_page])
            rows = [by_id[pk] for pk in ids[: self.per_page] if pk in by_id]
        page = self._get_page(rows, number, self)
        page.has_more = len(ids) > self.per_page
        return page


class ObjectPermissionMixin(LoginRequiredMixin):
    model: type[models.Model] = None
    queryset = None
    action: str = Action.VIEW

    @property
    def module(self) -> str:
        return self.model.permission_module

    def check_module_permission(self, action=None):
        if not get_permissions(self.request.user).has(self.module, action or self.action):
            raise PermissionDenied(_("You do not have permission to do this."))

    def base_queryset(self):
        qs = self.queryset if self.queryset is not None else self.model._default_manager.all()
        return qs.all()

    def scoped_queryset(self, action=None):
        self.check_module_permission(action)
        return self.base_queryset().visible_to(self.request.user, action or self.action)

    def get_object(self, action=None):
        return get_object_or_404(self.scoped_queryset(action), pk=self.kwargs["pk"])

    def model_context(self) -> dict:
        meta = self.model._meta
        return {
            "model_name": meta.model_name,
            "verbose_name": meta.verbose_name,
            "verbose_name_plural": capfirst(meta.verbose_name_plural),
            "perms": get_permissions(self.request.user),
            "module": self.module,
        }


class ObjectListView(ObjectPermissionMixin, View):
    table = None
    filterset = None
    template_name = "generic/object_list.html"
    add_url_name: str | None = None
    create_action: str = Action.CREATE  # the module action that allows adding (settings lists use "edit")
    bulk_actions: list[tuple[str, str, str]] = []  # (url name, label, required action)
    list_key: str | None = None
    default_per_page = 50

    def get_list_key(self) -> str:
        return self.list_key or self.model._meta.label_lower

    def get(self, request, *args, **kwargs):
        qs = self.scoped_queryset()
        custom_fields = self.model.custom_field_definitions() if hasattr(self.model, "custom_field_definitions") else []
        params = request.GET.copy()
        filters_only = params.pop("_filters", None) is not None
        saved = self.apply_saved_view(params)
        filterset = self.filterset(params, qs, request=request, custom_fields=custom_fields)
        if filters_only:
            # The filter panel is loaded when it is opened: its pickers (owners, departments, …) cost more to
            # render than the page of rows.
            table = self.table(request.user, custom_fields=custom_fields, ordering=params.get("sort"))
            return render(request, "generic/_filters_form.html", {"filterset": filterset, "table": table, "request": request})
        qs = filterset.qs if filterset.is_valid() else qs.none()
        columns = [c for c in params.get("columns", "").split(",") if c] or (saved.columns if saved else None)
        table = self.table(request.user, custom_fields=custom_fields, columns=columns, ordering=params.get("sort"))
        qs = table.order_queryset(qs)
        try:
            per_page = int(params.get("per_page", self.default_per_page))
        except ValueError:
            per_page = self.default_per_page
        per_page = per_page if per_page in PAGE_SIZES else self.default_per_page
        paginator = CappedPaginator(qs, per_page)
        page = paginator.page(params.get("page", 1))
        table.rows = list(page.object_list)
        context = {
            **self.model_context(),
            "table": table,
            "filterset": filterset,
            "page": page,
            "paginator": paginator,
            "count": paginator.count,
            "count_capped": getattr(paginator, "capped", False),
            "count_cap": COUNT_CAP,
            "per_page": per_page,
            "page_sizes": PAGE_SIZES,
            "query": self.query_without(params, "page"),
            "query_no_sort": self.query_without(params, "page", "sort"),
            "current_query": params.urlencode(),
            "saved_views": SavedView.objects.filter(user=request.user, list_key=self.get_list_key()),
            "active_saved_view": saved,
            "list_key": self.get_list_key(),
            "add_url": self.add_url(),
            "bulk_actions": self.get_bulk_actions(),
            "active_filters": filterset.active_filters() if filterset.is_valid() else [],
        }
        if is_htmx(request) and request.headers.get("HX-Target") == "object-list":
            return render(request, "generic/_object_table.html", context)
        return render(request, self.template_name, context)

    def apply_saved_view(self, params: QueryDict):
        view_id = params.get("view")
        saved = None
        if view_id:
            saved = SavedView.objects.filter(user=self.request.user, list_key=self.get_list_key(), pk=view_id).first()
        elif not any(k for k in params if k not in ("page", "per_page")):
            saved = SavedView.objects.filter(user=self.request.user, list_key=self.get_list_key(), is_default=True).first()
        if saved:
            for key, values in QueryDict(saved.query).lists():
                if key not in params:
                    params.setlist(key, values)
        return saved

    @staticmethod
    def query_without(params: QueryDict, *keys) -> str:
        q = params.copy()
        for key in keys:
            q.pop(key, None)
        return q.urlencode()

    def add_url(self):
        if self.add_url_name and get_permissions(self.request.user).has(self.module, self.create_action):
            return reverse(self.add_url_name)
        return None

    def get_bulk_actions(self):
        perms = get_permissions(self.request.user)
        return [{"url": reverse(u), "label": label, "action": a} for u, label, a in self.bulk_actions if perms.has(self.module, a)]


class ObjectDetailView(ObjectPermissionMixin, View):
    template_name = "generic/object_detail.html"
    detail_sections: list = []  # [(title, [field names])]
    tabs: list[tuple[str, str, str]] = []  # model-specific tabs: (key, label, template)
    edit_url_name: str | None = None
    delete_url_name: str | None = None

    def get(self, request, *args, **kwargs):
        try:
            obj = self.get_object()
        except Http404:
            # A record merged into another (duplicates app) lives on under the survivor's id.
            resolver = registry.object_redirects.get(self.model._meta.label_lower)
            survivor = resolver(self.kwargs["pk"]) if resolver else None
            if survivor and survivor != self.kwargs["pk"]:
                return redirect(request.path.replace(f"/{self.kwargs['pk']}/", f"/{survivor}/", 1))
            raise
        tab = request.GET.get("tab", "overview")
        tabs = self.get_tabs(obj)
        if tab not in {t["key"] for t in tabs}:
            tab = "overview"
        context = {**self.model_context(), "object": obj, "tabs": tabs, "tab": tab}
        context.update(self.tab_context(obj, tab))
        context.update(self.extra_context(obj))
        if is_htmx(request) and request.headers.get("HX-Target") == "tab-content":
            return render(request, "generic/_tab.html", context)
        return render(request, self.template_name, context)

    def extra_context(self, obj) -> dict:
        return {}

    def get_tabs(self, obj):
        tabs = [{"key": "overview", "label": _("Overview"), "template": "generic/_tab_overview.html"}]
        tabs += [{"key": k, "label": label, "template": t} for k, label, t in self.tabs]
        perms = get_permissions(self.request.user)
        for tab in registry.detail_tabs.get(self.model._meta.label_lower, []):
            if tab.permission and not perms.has(*tab.permission):
                continue
            tabs.append({"key": tab.key, "label": tab.label, "template": tab.template, "context": tab.context})
        tabs.append({"key": "changelog", "label": _("Change log"), "template": "generic/_tab_changelog.html"})
        return tabs

    def tab_context(self, obj, tab: str) -> dict:
        if tab == "overview":
            return {"sections": self.overview_sections(obj)}
        if tab == "changelog":
            return {"changes": changelog.describe(object_changes(obj))}
        handler = getattr(self, f"tab_{tab}", None)
        if handler:
            return handler(obj)
        for t in registry.detail_tabs.get(self.model._meta.label_lower, []):
            if t.key == tab and t.context:
                return t.context(self.request, obj)
        return {}

    def overview_sections(self, obj):
        perms = get_permissions(self.request.user)
        field_map = perms.field_map(self.module)
        sections = []
        for title, names in self.detail_sections:
            rows = []
            for name in names:
                if field_map.get(name) == FieldAccess.HIDDEN:
                    continue
                field = obj._meta.get_field(name)
                value = getattr(obj, name)
                link = None
                if field.many_to_many:
                    value = "、".join(str(v) for v in value.all())
                elif field.choices:
                    value = getattr(obj, f"get_{name}_display")()
                elif isinstance(value, models.Model):
                    module = getattr(value, "permission_module", "")
                    if module and module != "settings" and perms.has(module, Action.VIEW):
                        link = value.get_absolute_url()
                    value = str(value)
                elif isinstance(value, (datetime.date, datetime.datetime)):
                    value = tables.display(value)
                rows.append({"label": capfirst(field.verbose_name), "value": value, "name": name, "link": link})
            if rows:
                sections.append((title, rows))
        if hasattr(obj, "custom_fields"):
            by_section: dict[str, list] = {}
            stored = obj.custom_fields or {}
            for d in obj.custom_field_definitions():
                if field_map.get(d.form_name) == FieldAccess.HIDDEN:
                    continue
                by_section.setdefault(d.section or _("Custom fields"), []).append(
                    {"label": d.display_label, "value": d.display_value(stored.get(d.name)), "name": d.form_name}
                )
            sections.extend(by_section.items())
        return sections

    def get_edit_url(self, obj):
        if self.edit_url_name and get_permissions(self.request.user).has(self.module, Action.EDIT):
            return reverse(self.edit_url_name, args=[obj.pk])
        return None


def object_changes(obj, limit: int = 200):
    ct = ContentType.objects.get_for_model(type(obj))
    return list(ObjectChange.objects.filter(content_type=ct, object_id=obj.pk).select_related("user")[:limit])


class ObjectEditView(ObjectPermissionMixin, View):
    form_class = None
    template_name = "generic/object_edit.html"
    success_url_name: str | None = None
    create_action: str = Action.CREATE

    def get_instance(self):
        if "pk" in self.kwargs:
            return self.get_object(Action.EDIT)
        self.check_module_permission(self.create_action)
        return self.new_instance()

    def new_instance(self):
        return self.model()

    def get_form(self, instance, data=None, files=None):
        return self.form_class(data=data, files=files, instance=instance, user=self.request.user, initial=self.get_initial())

    def get_initial(self):
        return {k: v for k, v in self.request.GET.items() if k in getattr(self.form_class._meta, "fields", [])}

    def get(self, request, *args, **kwargs):
        instance = self.get_instance()
        return self.render_form(self.get_form(instance), instance)

    def post(self, request, *args, **kwargs):
        instance = self.get_instance()
        form = self.get_form(instance, request.POST, request.FILES)
        # The user ticked "save anyway" under a duplicate warning; save() passes it to the service.
        self.confirm_duplicates = request.POST.get("_confirm_duplicates") == "1"
        validate_field = request.POST.get("_validate")
        if validate_field and is_htmx(request):
            # Inline validation: re-render one field with its errors; nothing is saved.
            form.is_valid()
            if validate_field not in form.fields:
                return HttpResponse(status=204)
            return render(request, "generic/_form_field.html", {"field": form[validate_field], "validate": True})
        if form.is_valid():
            try:
                obj = self.save(form)
            except ValidationError as exc:
                apply_validation_error(form, exc)
                # Duplicate checks attach their hits; a warning may be confirmed with "save anyway".
                self.duplicate_hits = getattr(exc, "duplicate_hits", None)
                self.duplicate_warning = getattr(exc, "duplicate_warning", False)
            except PermissionDenied as exc:
                form.add_error(None, str(exc) or _("You do not have permission to do this."))
            else:
                messages.success(request, _("Saved “%(obj)s”.") % {"obj": obj})
                return HttpResponseRedirect(self.get_success_url(obj))
        return self.render_form(form, instance, status=400)

    def save(self, form):
        raise NotImplementedError

    def get_success_url(self, obj):
        next_url = self.request.POST.get("next") or self.request.GET.get("next")
        if next_url and is_local_url(next_url):
            return next_url
        if self.success_url_name:
            return reverse(self.success_url_name)
        return obj.get_absolute_url()

    def render_form(self, form, instance, status=200):
        context = {**self.model_context(), "form": form, "object": instance, "is_new": instance.pk is None,
                   "duplicate_hits": getattr(self, "duplicate_hits", None),
                   "duplicate_warning": getattr(self, "duplicate_warning", False)}
        return render(self.request, self.template_name, context, status=status)


def apply_validation_error(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class ObjectDeleteView(ObjectPermissionMixin, View):
    action = Action.DELETE
    template_name = "generic/object_delete.html"
    success_url_name: str = ""

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        return render(request, self.template_name, {**self.model_context(), "object": obj})

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        try:
            self.delete(obj)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            return HttpResponseRedirect(obj.get_absolute_url())
        messages.success(request, _("Deleted “%(obj)s”.") % {"obj": obj})
        return HttpResponseRedirect(reverse(self.success_url_name))

    def delete(self, obj):
        raise NotImplementedError


class BulkActionView(ObjectPermissionMixin, View):
    """POST with `pk` (repeated) from the list's bulk selection; `confirm` shows a form first."""

    template_name = "generic/bulk_action.html"
    form_class = None
    title = ""
    success_url_name = ""
    max_items = 1000

    def selected_ids(self):
        ids = []
        for value in self.request.POST.getlist("pk"):
            try:
                ids.append(int(value))
            except ValueError:
                continue
        return ids[: self.max_items]

    def post(self, request, *args, **kwargs):
        self.check_module_permission()
        ids = self.selected_ids()
        objects = list(self.scoped_queryset().filter(pk__in=ids)[: self.max_items])
        if not objects:
            messages.warning(request, _("Select at least one record."))
            return HttpResponseRedirect(self.return_url())
        form = self.form_class(request.POST, user=request.user) if self.form_class else None
        if "_apply" in request.POST and (form is None or form.is_valid()):
            try:
                count = self.apply([o.pk for o in objects], form)
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            else:
                messages.success(request, _("%(n)d record(s) updated.") % {"n": count})
                return HttpResponseRedirect(self.return_url())
        context = {**self.model_context(), "objects": objects, "form": form, "title": self.title, "return_url": self.return_url()}
        return render(request, self.template_name, context)

    def return_url(self):
        url = self.request.POST.get("return_url", "")
        if is_local_url(url):
            return url
        return reverse(self.success_url_name)

    def apply(self, ids, form) -> int:
        raise NotImplementedError


class SavedViewSaveView(LoginRequiredMixin, View):
    """Save the current filters and columns of a list as a named view (optionally the default)."""

    def post(self, request):
        return_url = request.POST.get("return_url", "/")
        if not is_local_url(return_url):
            return_url = "/"
        try:
            view = services.save_view(
                request.user, list_key=request.POST.get("list_key", ""), name=request.POST.get("name", ""),
                query=request.POST.get("query", ""), columns=request.POST.get("columns", "").split(","),
                is_default=request.POST.get("is_default") == "on",
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return HttpResponseRedirect(return_url)
        messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
        base = return_url.split("?")[0]
        return HttpResponseRedirect(f"{base}?{urlencode({'view': view.pk})}")


class SavedViewDeleteView(LoginRequiredMixin, View):
    def post(self, request, pk):
        view = get_object_or_404(SavedView, pk=pk, user=request.user)
        services.delete_view(request.user, view)
        messages.success(request, _("View deleted."))
        return_url = request.POST.get("return_url", "/")
        return HttpResponseRedirect(return_url if is_local_url(return_url) else "/")
