from django import forms


class AutocompleteSelect(forms.Select):
    """A foreign-key picker for big tables: a search box that asks `url?q=` (HTMX) for matches and keeps the
    chosen id in a hidden input. Only the selected option is rendered, never the whole table."""

    template_name = "generic/widgets/autocomplete.html"

    def __init__(self, url: str, attrs=None):
        super().__init__(attrs)
        self.url = url

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        label = ""
        if value not in (None, ""):
            queryset = getattr(self.choices, "queryset", None)
            if queryset is not None:
                obj = queryset.filter(pk=value).first()
                label = str(obj) if obj else ""
        context["widget"].update({"url": self.url, "label": label, "value_str": "" if value in (None, "") else str(value)})
        return context

    def optgroups(self, name, value, attrs=None):
        return []


class DatalistInput(forms.TextInput):
    """A text input with suggestions (HTML datalist): free text stays possible."""

    template_name = "generic/widgets/datalist.html"

    def __init__(self, options, attrs=None):
        super().__init__(attrs)
        self.options = list(options)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["options"] = self.options
        return context
