from django import forms
from django.utils.translation import gettext_lazy as _

from yingdan.core.choices import Action
from yingdan.core.forms import style_widgets
from yingdan.org.models import User

from .choices import HandoverMode


class LeavingUserForm(forms.Form):
    """Step 1: whose records are handed over (users the actor may edit)."""

    user = forms.ModelChoiceField(User.objects.none(), label=_("Leaving user"))

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            User.objects.visible_to(actor, Action.EDIT).exclude(pk=actor.pk).select_related("department")
            .order_by("-is_active", "name", "username")
        )
        self.fields["user"].label_from_instance = lambda u: (
            f"{u.display_name}（{u.username}）" + ("" if u.is_active else f" · {_('deactivated')}")
        )
        style_widgets(self)


class HandoverForm(forms.Form):
    """Step 2: how. The rules (successors active, not the leaving user, counts) are the service's."""

    mode = forms.ChoiceField(label=_("Hand over"), choices=HandoverMode.choices, initial=HandoverMode.ONE,
                             widget=forms.RadioSelect(attrs={"class": "form-check-input"}))
    successors = forms.ModelMultipleChoiceField(
        User.objects.none(), label=_("Successors"), required=False,
        help_text=_("One successor takes everything; with several, each kind of record is split evenly. "
                    "Returning to the pool: records that have no pool (e.g. opportunities) go to the successors."),
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("Kept with the handover record and the pool history."))

    def __init__(self, *args, actor=None, leaving=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["successors"].queryset = (
            User.objects.visible_to(actor, Action.VIEW).filter(is_active=True).exclude(pk=leaving.pk)
            .select_related("department").order_by("department__path", "name", "username")
        )
        self.fields["successors"].label_from_instance = lambda u: (
            f"{u.display_name}（{u.department.name}）" if u.department_id else u.display_name
        )
        style_widgets(self)
        self.fields["successors"].widget.attrs.update({"size": 8, "data-testid": "successors"})
