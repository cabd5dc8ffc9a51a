"""Recompute the stored duplicate-check keys (`dedupe_name`) of customers and leads after `company_key`
changes. Batched by id; only rows whose key differs are written (no change-log rows: a derived column)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from yingdan.core.text import company_key
from yingdan.customers.models import Customer
from yingdan.leads.models import Lead

BATCH = 20_000


class Command(BaseCommand):
    help = "Recompute dedupe_name (the duplicate-check company key) of customers and leads."

    def handle(self, *args, **options):
        for model, source in ((Customer, "name"), (Lead, "company")):
            last, changed, seen = 0, 0, 0
            while True:
                with transaction.atomic():
                    rows = list(model._base_manager.filter(pk__gt=last).order_by("pk").values_list("pk", source, "dedupe_name")[:BATCH])
                    if not rows:
                        break
                    for pk, value, stored in rows:
                        key = company_key(value)[:255] if value else ""
                        if key != stored:
                            model._base_manager.filter(pk=pk).update(dedupe_name=key)
                            changed += 1
                seen += len(rows)
                last = rows[-1][0]
            self.stdout.write(f"{model._meta.label}: {seen} checked, {changed} updated")
