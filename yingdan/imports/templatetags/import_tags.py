from django import template

register = template.Library()


@register.simple_tag
def importer_for(module) -> str:
    """The importer key for a permission module ("" when nothing imports into it)."""
    from yingdan.imports.importers import importers

    for key, imp in importers.items():
        if imp.module == module:
            return key
    return ""
