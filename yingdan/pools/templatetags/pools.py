"""`{% pool_actions object object_type as pa %}`: what the pool buttons on a record page may offer."""

from django import template

from yingdan.core.choices import Action
from yingdan.core.permissions import get_permissions

from .. import services
from ..models import Pool, PoolKind

register = template.Library()


@register.simple_tag(takes_context=True)
def pool_actions(context, obj, object_type):
    request = context.get("request")
    user = getattr(request, "user", None)
    out = {"in_pool": False, "can_claim": False, "can_release": False, "pool": None, "pools": [], "hidden": False}
    if obj is None or user is None or not user.is_authenticated:
        return out
    perms = get_permissions(user)
    if obj.pool_id:
        pool = obj.pool
        out.update(in_pool=True, pool=pool)
        out["can_claim"] = perms.has("pools", Action.VIEW) and (
            (pool.kind == PoolKind.OPEN and services.is_pool_member(user, pool)) or services.is_pool_admin(user, pool))
        out["hidden"] = bool(services.hidden_fields_for(user, obj))
    elif obj.owner_id and perms.has(type(obj).permission_module, Action.EDIT):
        out["can_release"] = True
        out["pools"] = list(Pool.objects.filter(object_type=object_type, is_active=True).order_by("name"))
    return out
