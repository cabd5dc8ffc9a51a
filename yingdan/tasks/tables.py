from django.utils.translation import gettext_lazy as _

from yingdan.core.tables import Column, Table

from .models import Task


class TaskTable(Table):
    owner = Column(order_by="owner_id")
    linked = Column(_("Linked record"), render=lambda t: t.target or "", sortable=False)

    class Meta:
        model = Task
        fields = ["title", "status", "priority", "due_at", "owner", "department", "linked", "recurrence", "completed_at",
                  "created_at", "updated_at"]
        default_columns = ["title", "status", "priority", "due_at", "owner", "linked"]
        linkify = ["title"]
