from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeSource(models.TextChoices):
    WEB = "web", _("Web")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    AUTOMATION = "automation", _("Automation")
    SYSTEM = "system", _("System")


class ChangeAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")


class Action(models.TextChoices):
    """Actions a role grants per module."""

    VIEW = "view", _("View")
    CREATE = "create", _("Create")
    EDIT = "edit", _("Edit")
    DELETE = "delete", _("Delete")
    IMPORT = "import", _("Import")
    EXPORT = "export", _("Export")
    TRANSFER = "transfer", _("Transfer")


class DataScope(models.TextChoices):
    OWN = "own", _("Own (本人)")
    DEPARTMENT = "department", _("Own department (本部门)")
    DEPARTMENT_TREE = "department_tree", _("Department and sub-departments (本部门及下级)")
    ALL = "all", _("All (全公司)")


SCOPE_RANK = {DataScope.OWN: 0, DataScope.DEPARTMENT: 1, DataScope.DEPARTMENT_TREE: 2, DataScope.ALL: 3}


class FieldAccess(models.TextChoices):
    EDIT = "edit", _("Editable")
    READ = "read", _("Read-only")
    HIDDEN = "hidden", _("Hidden")


FIELD_ACCESS_RANK = {FieldAccess.HIDDEN: 0, FieldAccess.READ: 1, FieldAccess.EDIT: 2}


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("Text")
    LONGTEXT = "longtext", _("Long text")
    INTEGER = "integer", _("Integer")
    DECIMAL = "decimal", _("Decimal")
    MONEY = "money", _("Money")
    DATE = "date", _("Date")
    DATETIME = "datetime", _("Date and time")
    BOOLEAN = "boolean", _("Yes/No")
    SELECT = "select", _("Single choice")
    MULTISELECT = "multiselect", _("Multiple choice")
    USER = "user", _("User")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    URL = "url", _("URL")
