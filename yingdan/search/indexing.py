"""Bulk (re)indexing: the search_reindex command and the scale-data generator use this path."""

from __future__ import annotations

from django.db import connections, transaction

from .grams import gram_rows, insert_gram_rows, name_grams
from .models import SearchGram
from .services import providers

BATCH = 50_000


def index_rows(kind: int, items, using: str = "default") -> int:
    """Insert the grams of (object_id, search_name) pairs; the caller holds the transaction."""
    rows = gram_rows(kind, items)
    insert_gram_rows(rows, using=using)
    return len(rows)


def reindex(keys=None, using: str = "default", stdout=None):
    """Drop and rebuild the grams of the chosen providers, in batches; yields (key, objects indexed)."""
    for provider in providers():
        if keys and provider.key not in keys:
            continue
        with transaction.atomic(using=using):
            SearchGram.objects.using(using).filter(kind=provider.kind).delete()
        count = 0
        last = 0
        while True:
            with transaction.atomic(using=using):
                batch = list(
                    provider.model._base_manager.using(using).filter(pk__gt=last).order_by("pk").values_list("pk", "search_name")[:BATCH]
                )
                if not batch:
                    break
                index_rows(provider.kind, batch, using=using)
            count += len(batch)
            last = batch[-1][0]
            if stdout is not None and count % (BATCH * 10) == 0:
                stdout.write(f"  {provider.key}: {count}…")
        if connections[using].vendor == "postgresql":
            with connections[using].cursor() as cursor:
                cursor.execute(f'ANALYZE "{SearchGram._meta.db_table}"')
        yield provider.key, count


def index_instances(objects, using: str = "default", grams=None) -> int:
    """Index objects written with bulk_create (which sends no post_save): call it in the same transaction; returns the number of grams written.

    e.g. `Contact.objects.bulk_create(contacts); index_instances(contacts)`. Objects need their pk set.
    `grams`: each object's name_grams(search_name) where already known (in the same order; None: computed).
    """
    objects = list(objects)
    if not objects:
        return 0
    model = type(objects[0])
    provider = next((p for p in providers() if p.model is model), None)
    if provider is None:
        return 0
    kind = provider.kind
    rows = []
    for o, names in zip(objects, grams or [None] * len(objects), strict=True):
        pk = o.pk
        rows += [(kind, g, pk) for g in (name_grams(o.search_name) if names is None else names)]
    insert_gram_rows(rows, using=using)
    return len(rows)
