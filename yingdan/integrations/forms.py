from django import forms
from django.utils.translation import gettext_lazy as _

from yingdan.core import registry
from yingdan.core.forms import style_widgets

from .models import Robot, Webhook


class _SecretMixin:
    """The secret is never rendered back: blank on edit keeps the stored one."""

    def _secret_field(self, required_on_create: bool):
        f = self.fields["secret"]
        f.widget = forms.PasswordInput(render_value=False)
        f.required = False
        if self.instance.pk and self.instance.secret:
            f.help_text = _("Stored: %(masked)s — leave empty to keep it.") % {"masked": self.instance.secret_masked}

    def grouped_fields(self):
        return [("", [self[name] for name in self.fields])]

    def clean_secret(self):
        value = self.cleaned_data.get("secret") or ""
        return value.strip()


class RobotForm(_SecretMixin, forms.ModelForm):
    webhook_url = forms.URLField(label=_("Webhook URL"), max_length=500, assume_scheme="https")
    kinds = forms.MultipleChoiceField(label=_("Notification kinds"), required=False, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Robot
        fields = ["vendor", "name", "webhook_url", "secret", "keyword", "kinds", "is_active"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kinds"].choices = [(k, str(v)) for k, v in registry.notification_kinds.items()]
        self._secret_field(False)
        if self.instance.pk:
            self.initial["webhook_url"] = ""
            self.fields["webhook_url"].required = False
            self.fields["webhook_url"].help_text = _("Stored: %(masked)s — leave empty to keep it.") % {"masked": self.instance.url_masked}
        style_widgets(self)

    def clean_webhook_url(self):
        value = (self.cleaned_data.get("webhook_url") or "").strip()
        if not value and self.instance.pk:
            return Robot.objects.filter(pk=self.instance.pk).values_list("webhook_url", flat=True).first()
        return value


class WebhookForm(_SecretMixin, forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.CharField(label=_("Events"), widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("One per line or separated by commas: customers.customer.create, customers.*, *"))

    class Meta:
        model = Webhook
        fields = ["name", "url", "events", "secret", "is_active"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["events"] = "\n".join(self.instance.events or [])
        self._secret_field(False)
        self.fields["secret"].help_text = (self.fields["secret"].help_text or "") + " " + str(
            _("Leave empty on creation to generate one; it is shown once."))
        style_widgets(self)

    def clean_events(self):
        raw = self.cleaned_data.get("events") or ""
        return [p.strip() for chunk in raw.splitlines() for p in chunk.split(",") if p.strip()]
