"""`yingdan search_reindex` — rebuild the name-gram index of every search provider from the objects."""

from django.core.management.base import BaseCommand

from yingdan.search.indexing import reindex


class Command(BaseCommand):
    help = "Rebuild the global-search gram index (customers, contacts and every registered provider)."

    def add_arguments(self, parser):
        parser.add_argument("--kind", action="append", help="Only these providers (e.g. customers).")

    def handle(self, *args, **options):
        for key, count in reindex(keys=options.get("kind"), stdout=self.stdout):
            self.stdout.write(f"{key}: {count} objects indexed")
