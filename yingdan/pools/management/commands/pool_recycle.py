"""`yingdan pool_recycle [--dry-run] [--no-warn]`: warn owners and return overdue records to their pools."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from yingdan.core import context
from yingdan.core.choices import ChangeSource
from yingdan.pools import services


class Command(BaseCommand):
    help = "Return customers and leads without recent activity to their public pools (what the nightly job does)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be recycled.")
        parser.add_argument("--no-warn", action="store_true", help="Do not send the advance warnings.")
        parser.add_argument("--limit", type=int, default=None, help="Move at most this many records.")

    def handle(self, *args, dry_run=False, no_warn=False, limit=None, **options):
        with context.change_context(source=ChangeSource.AUTOMATION):
            warned = 0
            if not dry_run and not no_warn:
                warned = services.warn_due()
            report = services.recycle(dry_run=dry_run, limit=limit)
        for (object_type, pool_id), count in sorted(report.per_pool.items()):
            self.stdout.write(f"{object_type} pool {pool_id}: {count}")
        verb = _("would be recycled") if dry_run else _("recycled")
        self.stdout.write(self.style.SUCCESS(f"{report.total} {verb}; {warned} warned"))
