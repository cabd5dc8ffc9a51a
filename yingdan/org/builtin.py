"""The built-in roles. A data migration creates them; `ensure_builtin_roles()` is idempotent."""

from yingdan.core.choices import DataScope

ALL = ["view", "create", "edit", "delete", "import", "export", "transfer"]
BUSINESS_MODULES = ["customers", "contacts", "leads", "followups", "opportunities"]  # later issues extend this list


def _grant(actions, scope):
    return {"actions": list(actions), "scope": scope}


BUILTIN_ROLES = [
    {
        "code": "admin", "name": "系统管理员", "description": "系统管理员：全部功能与全部数据",
        "is_admin": True, "permissions": {},
    },
    {
        "code": "director", "name": "销售总监", "description": "销售总监：全公司数据",
        "permissions": {
            **{m: _grant(ALL, DataScope.ALL) for m in BUSINESS_MODULES},
            "users": _grant(["view"], DataScope.ALL),
            "departments": _grant(["view"], DataScope.ALL),
            "roles": _grant(["view"], DataScope.ALL),
            "pools": _grant(["view", "create", "edit", "delete"], DataScope.ALL),
            "pipelines": _grant(["view", "create", "edit", "delete"], DataScope.ALL),
            "reports": _grant(["view", "export"], DataScope.ALL),
            "tasks": _grant(ALL, DataScope.ALL),
        },
    },
    {
        "code": "manager", "name": "销售经理", "description": "销售经理：本部门及下级部门数据",
        "permissions": {
            **{m: _grant(ALL, DataScope.DEPARTMENT_TREE) for m in BUSINESS_MODULES},
            "users": _grant(["view"], DataScope.DEPARTMENT_TREE),
            "departments": _grant(["view"], DataScope.ALL),
            "pools": _grant(["view"], DataScope.ALL),
            "pipelines": _grant(["view"], DataScope.ALL),
            "reports": _grant(["view", "export"], DataScope.DEPARTMENT_TREE),
            "tasks": _grant(ALL, DataScope.DEPARTMENT_TREE),
        },
    },
    {
        "code": "rep", "name": "销售代表", "description": "销售代表：本人负责的客户",
        "permissions": {
            **{m: _grant(["view", "create", "edit", "export"], DataScope.OWN) for m in BUSINESS_MODULES},
            "users": _grant(["view"], DataScope.DEPARTMENT),
            "departments": _grant(["view"], DataScope.ALL),
            "pools": _grant(["view"], DataScope.ALL),
            "pipelines": _grant(["view"], DataScope.ALL),
            "reports": _grant(["view"], DataScope.OWN),
            "tasks": _grant(["view", "create", "edit", "delete", "export"], DataScope.OWN),
        },
    },
    {
        "code": "finance", "name": "财务", "description": "财务：查看全公司客户，不可修改负责人",
        "permissions": {
            **{m: _grant(["view", "export"], DataScope.ALL) for m in BUSINESS_MODULES},
            "users": _grant(["view"], DataScope.ALL),
            "departments": _grant(["view"], DataScope.ALL),
            "pipelines": _grant(["view"], DataScope.ALL),
            "reports": _grant(["view", "export"], DataScope.ALL),
        },
        "field_permissions": {"customers": {"owner": "read"}},
    },
]


def ensure_builtin_roles(Role) -> None:
    for spec in BUILTIN_ROLES:
        defaults = {k: v for k, v in spec.items() if k != "code"}
        role = Role.objects.filter(code=spec["code"], is_builtin=True).first()
        if role is None:
            Role.objects.create(code=spec["code"], is_builtin=True, **{"field_permissions": {}, "is_admin": False, **defaults})


def grant_new_modules(Role, modules) -> None:
    """Give the built-in roles their grants on modules added after they were created (a data migration per
    issue calls this); grants an admin already changed are left alone."""
    specs = {spec["code"]: spec for spec in BUILTIN_ROLES}
    for role in Role.objects.filter(is_builtin=True):
        spec = specs.get(role.code)
        if not spec:
            continue
        changed = False
        for module in modules:
            if module in spec["permissions"] and module not in role.permissions:
                role.permissions[module] = spec["permissions"][module]
                changed = True
        if changed:
            role.save(update_fields=["permissions"])
