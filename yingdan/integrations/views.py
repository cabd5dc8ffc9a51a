"""Settings pages: robots (with test send) and webhooks (with the delivery log, ping and redelivery)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views import View

from yingdan.core.choices import Action
from yingdan.core.views import generic

from . import services
from .filtersets import RobotFilterSet, WebhookFilterSet
from .forms import RobotForm, WebhookForm
from .models import Robot, Webhook, WebhookDelivery
from .tables import RobotTable, WebhookTable


class RobotListView(generic.ObjectListView):
    model = Robot
    queryset = Robot.objects.all()
    table = RobotTable
    filterset = RobotFilterSet
    add_url_name = "integrations:robot_add"
    create_action = Action.EDIT


class RobotDetailView(generic.ObjectDetailView):
    model = Robot
    template_name = "integrations/robot_detail.html"

    def extra_context(self, obj):
        return {"recent_messages": obj.messages.order_by("-id")[:20]}


class RobotEditView(generic.ObjectEditView):
    model = Robot
    form_class = RobotForm
    create_action = Action.EDIT
    template_name = "integrations/robot_edit.html"

    def save(self, form):
        return services.save_robot(self.request.user, form.instance)


class RobotDeleteView(generic.ObjectDeleteView):
    model = Robot
    action = Action.EDIT
    success_url_name = "integrations:robot_list"

    def delete(self, obj):
        services.delete_robot(self.request.user, obj)


class RobotTestView(generic.ObjectPermissionMixin, View):
    model = Robot
    action = Action.EDIT

    def post(self, request, pk):
        robot = self.get_object()
        result = services.test_send(request.user, robot)
        if result.ok:
            messages.success(request, _("Test message sent."))
        else:
            messages.error(request, _("The robot refused the message: %(code)s %(message)s") % {"code": result.code, "message": result.message})
        return HttpResponseRedirect(robot.get_absolute_url())


class WebhookListView(generic.ObjectListView):
    model = Webhook
    queryset = Webhook.objects.all()
    table = WebhookTable
    filterset = WebhookFilterSet
    add_url_name = "integrations:webhook_add"
    create_action = Action.EDIT


class WebhookDetailView(generic.ObjectDetailView):
    model = Webhook
    template_name = "integrations/webhook_detail.html"

    def extra_context(self, obj):
        return {"deliveries": obj.deliveries.order_by("-id")[:50]}


class WebhookEditView(generic.ObjectEditView):
    model = Webhook
    form_class = WebhookForm
    create_action = Action.EDIT
    template_name = "integrations/webhook_edit.html"

    def save(self, form):
        new = form.instance.pk is None
        given = bool(form.instance.secret)
        hook = services.save_webhook(self.request.user, form.instance)
        if new and not given:
            messages.info(self.request, _("Signing secret (shown once, copy it now): %(secret)s") % {"secret": hook.secret})
        return hook


class WebhookDeleteView(generic.ObjectDeleteView):
    model = Webhook
    action = Action.EDIT
    success_url_name = "integrations:webhook_list"

    def delete(self, obj):
        services.delete_webhook(self.request.user, obj)


class WebhookPingView(generic.ObjectPermissionMixin, View):
    model = Webhook
    action = Action.EDIT

    def post(self, request, pk):
        hook = self.get_object()
        d = services.send_test_event(request.user, hook)
        if d.status == WebhookDelivery.Status.SUCCESS:
            messages.success(request, _("Ping delivered in %(ms)s ms.") % {"ms": d.response_ms})
        else:
            messages.error(request, _("Ping failed: %(error)s") % {"error": d.error})
        return HttpResponseRedirect(hook.get_absolute_url())


class RedeliverView(generic.ObjectPermissionMixin, View):
    model = Webhook
    action = Action.EDIT

    def post(self, request, pk):
        self.check_module_permission()
        delivery = get_object_or_404(WebhookDelivery.objects.select_related("webhook"), pk=pk)
        try:
            services.redeliver(request.user, delivery)
        except PermissionDenied:
            raise
        messages.success(request, _("Redelivery queued."))
        return HttpResponseRedirect(delivery.webhook.get_absolute_url())
