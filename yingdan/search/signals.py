"""Keep the gram index in step with every provider's model on save and delete."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from . import grams


def _provider_for(sender):
    from .services import providers

    for provider in providers():
        if provider.model is sender:
            return provider
    return None


def _saved(sender, instance, raw=False, **kwargs):
    provider = _provider_for(sender)
    if provider is not None:
        grams.index_object(provider.kind, instance.pk, instance.search_name)


def _deleted(sender, instance, **kwargs):
    provider = _provider_for(sender)
    if provider is not None:
        grams.unindex_object(provider.kind, instance.pk)


def connect() -> None:
    """Global receivers: providers registered later by other apps are covered too."""
    post_save.connect(_saved, dispatch_uid="yingdan_search_save")
    post_delete.connect(_deleted, dispatch_uid="yingdan_search_delete")
