from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.views import View

from yingdan.core import files
from yingdan.core.choices import Action, DataScope
from yingdan.core.models import Lookup
from yingdan.core.models.base import department_ids_for
from yingdan.core.permissions import get_permissions
from yingdan.core.views import generic
from yingdan.customers.models import Customer
from yingdan.leads.models import Lead

from . import services
from .filtersets import FollowUpFilterSet
from .forms import CommentForm, FollowUpForm, QuickFollowUpForm
from .models import FollowUp, FollowUpComment
from .tables import FollowUpTable
from .timeline import tab_context


class FollowUpListView(generic.ObjectListView):
    model = FollowUp
    queryset = FollowUp.objects.select_related("type", "owner", "department", "customer", "lead").defer(
        "customer__remarks", "customer__custom_fields", "lead__remarks", "lead__custom_fields"
    )
    filterset = FollowUpFilterSet
    table = FollowUpTable
    add_url_name = "followups:followup_add"


class FollowUpDetailView(generic.ObjectDetailView):
    model = FollowUp
    queryset = FollowUp.objects.select_related("type", "owner", "department", "customer", "lead", "created_by")
    template_name = "followups/followup_detail.html"
    detail_sections = [
        (_("Follow-up"), ["customer", "lead", "contacts", "type", "occurred_at", "owner", "department"]),
        (_("Next step"), ["next_at", "next_plan"]),
        (_("Visit check-in"), ["checkin_address", "checkin_lat", "checkin_lng"]),
        (_("Record"), ["created_by", "created_at", "updated_at"]),
    ]
    edit_url_name = "followups:followup_edit"

    def extra_context(self, obj):
        perms = get_permissions(self.request.user)
        comments = list(FollowUpComment.objects.filter(followup=obj).select_related("author").order_by("id"))
        return {
            "edit_url": self.get_edit_url(obj),
            "delete_url": reverse("followups:followup_delete", args=[obj.pk]) if perms.has("followups", Action.DELETE) else None,
            "followup": obj,
            "attachments": files.attachments_of(FollowUp, [obj.pk]).get(obj.pk, []),
            "comments": comments,
            "comment_form": CommentForm(),
        }


class FollowUpEditView(generic.ObjectEditView):
    model = FollowUp
    form_class = FollowUpForm
    template_name = "followups/followup_edit.html"

    def get_initial(self):
        initial = super().get_initial()
        for key in ("customer", "lead"):
            if self.request.GET.get(key, "").isdigit():
                initial[key] = int(self.request.GET[key])
        return initial

    def save(self, form):
        return services.save_followup(
            self.request.user, form.instance,
            contacts=form.cleaned_data.get("contacts") if "contacts" in form.fields else None,
            files_to_attach=form.cleaned_data.get("files") or [],
        )


class FollowUpDeleteView(generic.ObjectDeleteView):
    model = FollowUp
    success_url_name = "followups:followup_list"

    def delete(self, obj):
        services.delete_followup(self.request.user, obj)


# -- the quick form on a customer's / lead's timeline ---------------------------------------------------
class QuickAddView(LoginRequiredMixin, View):
    """POST from the timeline tab: saves a follow-up and answers the refreshed tab (or the form with errors)."""

    def post(self, request):
        if not get_permissions(request.user).has("followups", Action.CREATE):
            raise PermissionDenied
        parent = self.parent()
        form = QuickFollowUpForm(request.POST, request.FILES, user=request.user, parent=parent)
        saved = None
        if form.is_valid():
            try:
                saved = services.save_followup(request.user, form.instance, files_to_attach=form.cleaned_data.get("files") or [])
            except ValidationError as exc:
                generic.apply_validation_error(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
        context = tab_context(request, parent)
        context["object"] = parent
        if saved is None:
            context["quick_form"] = form
            context["quick_open"] = True
        else:
            context["quick_saved"] = True
        # 200 either way: HTMX swaps only successful responses, and the form shows its own errors.
        return render(request, "followups/_timeline_panel.html", context)

    def parent(self):
        for key, model in (("customer", Customer), ("lead", Lead)):
            value = self.request.POST.get(key, "")
            if value.isdigit():
                return get_object_or_404(model.objects.visible_to(self.request.user), pk=int(value))
        raise Http404


class CommentAddView(LoginRequiredMixin, View):
    def post(self, request, pk):
        if not get_permissions(request.user).has("followups", Action.VIEW):
            raise PermissionDenied
        followup = get_object_or_404(FollowUp.objects.visible_to(request.user), pk=pk)
        form = CommentForm(request.POST)
        error = None
        if form.is_valid():
            try:
                services.add_comment(request.user, followup, form.cleaned_data["body"])
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                form = CommentForm()
        else:
            error = " ".join(e for errs in form.errors.values() for e in errs)
        comments = list(FollowUpComment.objects.filter(followup=followup).select_related("author").order_by("id"))
        context = {"followup": followup, "comments": comments, "comment_form": form, "comment_error": error}
        if generic.is_htmx(request):
            return render(request, "followups/_comments.html", context)
        if error:
            messages.error(request, error)
        return HttpResponseRedirect(followup.get_absolute_url())


# -- due today / overdue ---------------------------------------------------------------------------------
# The date sorts have no id tiebreak: the (next_followup_at) index gives the order and a page stops after 50
# rows; sorting every row due on the same day by id would read them all (3,000+ at a million customers).
DUE_SORTS = {
    "next": ("next_followup_at",), "-next": ("-next_followup_at",),
    "last": ("last_contact_at", "id"), "-last": ("-last_contact_at", "-id"),
    "name": ("name", "id"), "-name": ("-name", "-id"),
}


MAX_REPS = 100  # reps listed in the per-rep panel
DUE_COUNT_CAP = 1000


class DuePaginator(generic.CappedPaginator):
    """Counts at most DUE_COUNT_CAP rows ("1000+"): a region's overdue list can hold tens of thousands, each
    counted row is a table read (the scope filter), and the per-rep panel has the exact numbers. A count the
    view already knows (the user's own list) is taken as is."""

    def __init__(self, object_list, per_page, known_count=None):
        super().__init__(object_list, per_page)
        self.known_count = known_count

    @cached_property
    def count(self):
        if self.known_count is not None:
            self.capped = False
            return self.known_count
        counted = self.object_list.order_by()[: DUE_COUNT_CAP + 1].count()
        self.capped = counted > DUE_COUNT_CAP
        return min(counted, DUE_COUNT_CAP)


class DueListView(LoginRequiredMixin, View):
    """今日待跟进 / 逾期: customers or leads whose next follow-up date is today / before today. A rep sees their
    own; a manager sees their scope's, grouped per rep (counts through the (owner, next date) index) with a
    drill-down to one rep."""

    template_name = "followups/due_list.html"

    def get(self, request):
        perms = get_permissions(request.user)
        if not perms.has("followups", Action.VIEW):
            raise PermissionDenied
        kind = request.GET.get("kind") if request.GET.get("kind") in ("customer", "lead") else "customer"
        module, model = ("customers", Customer) if kind == "customer" else ("leads", Lead)
        if not perms.has(module, Action.VIEW):
            kinds = [k for k, m in (("customer", "customers"), ("lead", "leads")) if perms.has(m, Action.VIEW)]
            if not kinds:
                raise PermissionDenied
            kind = kinds[0]
            module, model = ("customers", Customer) if kind == "customer" else ("leads", Lead)
        when = request.GET.get("when") if request.GET.get("when") in ("today", "overdue") else "today"
        today = timezone.localdate()
        date_q = {"next_followup_at": today} if when == "today" else {"next_followup_at__lt": today}
        scope = perms.scope(module)
        is_manager = scope != DataScope.OWN
        owner = None
        if request.GET.get("owner", "").isdigit():
            owner = int(request.GET["owner"])
        mine = request.GET.get("mine") == "1" or not is_manager
        if request.GET.get("_groups") == "1":
            # The per-rep panel is fetched after the page (HTMX): counting a region's overdue customers costs
            # more than the page of rows, and the list should not wait for it. It needs none of the list's rows.
            reps = list(self.reps_in_scope(request.user, scope)[:MAX_REPS]) if is_manager else []
            groups = self.per_rep_counts(model, reps, today) if reps else []
            return render(request, "followups/_due_groups.html", {"groups": groups, "kind": kind, "when": when, "owner": owner})

        qs = model.objects.visible_to(request.user).filter(**date_q)
        if mine:
            qs = qs.filter(owner_id=request.user.pk)
        elif owner is not None:
            qs = qs.filter(owner_id=owner)
        elif is_manager and scope != DataScope.ALL:
            qs = qs.filter(owner_id__in=list(self.reps_in_scope(request.user, scope).values_list("pk", flat=True)))
        else:
            qs = qs.filter(owner__isnull=False)
        q = request.GET.get("q", "").strip()[:100]
        if q:
            qs = qs.filter(name__icontains=q) if kind == "lead" else qs.filter(search_name__contains=q.lower())
        if kind == "customer":
            level = request.GET.get("level", "")
            if level.isdigit():
                qs = qs.filter(level_id=int(level))
        sort = request.GET.get("sort") if request.GET.get("sort") in DUE_SORTS else "next"
        qs = qs.select_related("owner", *(("level", "status") if kind == "customer" else ("status",))).order_by(*DUE_SORTS[sort])
        counts = self.my_counts(model, request.user, today)
        filtered = bool(q) or (kind == "customer" and request.GET.get("level", "").isdigit())
        # One's own list unfiltered is exactly what the header counts (an owner always sees their records).
        paginator = DuePaginator(qs, 50, known_count=counts[when] if mine and not filtered else None)
        page = paginator.page(request.GET.get("page", 1))

        params = request.GET.copy()
        params.pop("page", None)
        params.pop("_groups", None)
        groups = []
        context = {
            "kind": kind, "when": when, "today": today, "page": page, "paginator": paginator,
            "count": paginator.count, "count_capped": getattr(paginator, "capped", False),
            "is_manager": is_manager, "groups": groups, "owner": owner, "mine": mine, "sort": sort,
            "counts": counts, "query": params.urlencode(), "q": q,
            "levels": self.levels() if kind == "customer" else [],
            "level": request.GET.get("level", ""),
            "can_customers": perms.has("customers", Action.VIEW), "can_leads": perms.has("leads", Action.VIEW),
            "can_add": perms.has("followups", Action.CREATE),
        }
        if generic.is_htmx(request) and request.headers.get("HX-Target") == "due-list":
            return render(request, "followups/_due_table.html", context)
        return render(request, self.template_name, context)

    @staticmethod
    def levels():
        return list(Lookup.objects.filter(kind="customer_level", is_active=True).order_by("order", "id"))

    @staticmethod
    def reps_in_scope(user, scope):
        """Active users of the scope's departments, by name (at most 500): a queryset, so the list reads
        only their ids and the panel only the reps it shows."""
        User = get_user_model()
        qs = User.objects.filter(is_active=True)
        if scope != DataScope.ALL:
            qs = qs.filter(department_id__in=department_ids_for(user, scope) or [-1])
        return qs.order_by("name", "id")[:500]

    @staticmethod
    def per_rep_counts(model, reps, today):
        """[{rep, today, overdue}] for reps with something due: one GROUP BY owner over the (owner,
        next_followup_at) index range `next_followup_at <= today` of each rep, both buckets counted in the pass."""
        ids = [r.pk for r in reps[:MAX_REPS]]
        counts = {
            owner_id: (n_today, n_overdue)
            for owner_id, n_today, n_overdue in model.objects.filter(owner_id__in=ids, next_followup_at__lte=today)
            .order_by().values("owner_id")
            .annotate(t=Count("next_followup_at", filter=Q(next_followup_at=today)), o=Count("next_followup_at", filter=Q(next_followup_at__lt=today)))
            .values_list("owner_id", "t", "o")
        }
        rows = [{"rep": r, "today": counts.get(r.pk, (0, 0))[0], "overdue": counts.get(r.pk, (0, 0))[1]} for r in reps[:MAX_REPS]]
        rows = [r for r in rows if r["today"] or r["overdue"]]
        rows.sort(key=lambda r: (-r["overdue"], -r["today"], r["rep"].pk))
        return rows

    @staticmethod
    def my_counts(model, user, today):
        """The user's own due-today and overdue counts: one pass over their (owner, next_followup_at) range."""
        return model.objects.filter(owner_id=user.pk, next_followup_at__lte=today).aggregate(
            today=Count("next_followup_at", filter=Q(next_followup_at=today)), overdue=Count("next_followup_at", filter=Q(next_followup_at__lt=today)),
        )

