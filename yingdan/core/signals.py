"""Connects the change log to every BusinessModel subclass (and to their many-to-many fields)."""

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from . import changelog
from .models import ChangeLoggedModel


def _is_business(sender) -> bool:
    return isinstance(sender, type) and issubclass(sender, ChangeLoggedModel)


def _saved(sender, instance, created, raw=False, **kwargs):
    if raw or not _is_business(sender):
        return
    changelog.on_saved(instance, created)


def _deleted(sender, instance, **kwargs):
    if _is_business(sender):
        changelog.on_deleted(instance)


def _pre_delete(sender, instance, **kwargs):
    if _is_business(sender) and not hasattr(instance, "_changelog_snapshot"):
        instance._changelog_snapshot = changelog.snapshot(instance)


def _m2m(sender, instance, action, reverse, model, pk_set, **kwargs):
    if reverse or not isinstance(instance, ChangeLoggedModel):
        return
    field = next(
        (f for f in type(instance)._meta.many_to_many if f.remote_field.through is sender), None
    )
    if field is None:
        return
    if action in ("pre_add", "pre_remove", "pre_clear"):
        instance._m2m_before = sorted(getattr(instance, field.name).values_list("pk", flat=True))
    elif action in ("post_add", "post_remove", "post_clear"):
        before = getattr(instance, "_m2m_before", [])
        after = sorted(getattr(instance, field.name).values_list("pk", flat=True))
        changelog.on_m2m(instance, field.name, before, after)


post_save.connect(_saved, dispatch_uid="yingdan_changelog_save")
post_delete.connect(_deleted, dispatch_uid="yingdan_changelog_delete")
pre_delete.connect(_pre_delete, dispatch_uid="yingdan_changelog_pre_delete")
m2m_changed.connect(_m2m, dispatch_uid="yingdan_changelog_m2m")
