from django import forms
from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yingdan.core.forms import style_widgets

from .models import BriefSchedule


class BriefForm(forms.ModelForm):
    robots = forms.MultipleChoiceField(label=gettext_lazy("Robots"), required=False)
    users = forms.ModelMultipleChoiceField(label=gettext_lazy("Users"), required=False,
                                           queryset=get_user_model().objects.filter(is_active=True))

    class Meta:
        model = BriefSchedule
        fields = ["name", "department", "frequency", "weekday", "send_time", "emails", "is_active"]
        widgets = {"send_time": forms.TimeInput(attrs={"type": "time"}), "emails": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if apps.is_installed("yingdan.integrations"):
            from yingdan.integrations.models import Robot

            self.fields["robots"].choices = [(str(r.pk), str(r)) for r in Robot.objects.order_by("name")]
        self.fields["robots"].initial = [str(i) for i in self.instance.robot_ids or []]
        if self.instance.pk:
            self.fields["users"].initial = list(self.instance.users.all())
        self.fields["weekday"] = forms.TypedChoiceField(
            label=_("Weekday"), coerce=int, initial=self.instance.weekday,
            choices=[(0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")), (4, _("Friday")),
                     (5, _("Saturday")), (6, _("Sunday"))])
        style_widgets(self)

    def clean(self):
        data = super().clean()
        self.instance.robot_ids = [int(x) for x in data.get("robots") or []]
        return data

    def grouped_fields(self):
        return [(_("Sales brief"), [self[n] for n in ("name", "department", "frequency", "weekday", "send_time", "is_active")]),
                (_("Recipients"), [self[n] for n in ("robots", "emails", "users")])]
