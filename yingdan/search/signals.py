"""Keep the gram index in step with every provider's model on save and delete."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save, pre_save

from . import grams


def _provider_for(sender):
    from .services import providers

    for provider in providers():
        if provider.model is sender:
            return provider
    return None


def _before_save(sender, instance, raw=False, update_fields=None, **kwargs):
    """Remember the stored name so the old grams are computed, not searched for (a PK seek per gram)."""
    if raw or _provider_for(sender) is None:
        return
    if update_fields is not None and "search_name" not in update_fields:
        instance._search_name_before = instance.search_name  # the name is not being written: nothing to do
        return
    if instance._state.adding or instance.pk is None:
        instance._search_name_before = ""
    else:
        row = sender._base_manager.filter(pk=instance.pk).values_list("search_name", flat=True).first()
        instance._search_name_before = row  # None: not stored yet (e.g. save with an explicit new pk)


def _saved(sender, instance, raw=False, **kwargs):
    provider = _provider_for(sender)
    if provider is not None:
        previous = getattr(instance, "_search_name_before", None)
        grams.index_object(provider.kind, instance.pk, instance.search_name, previous_name=previous)
        instance._search_name_before = instance.search_name


def _deleted(sender, instance, **kwargs):
    provider = _provider_for(sender)
    if provider is not None:
        grams.unindex_object(provider.kind, instance.pk, instance.search_name)


def connect() -> None:
    """Global receivers: providers registered later by other apps are covered too."""
    pre_save.connect(_before_save, dispatch_uid="yingdan_search_pre_save")
    post_save.connect(_saved, dispatch_uid="yingdan_search_save")
    post_delete.connect(_deleted, dispatch_uid="yingdan_search_delete")
