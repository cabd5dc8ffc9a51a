"""`yingdan restore FILE`: bring a `yingdan backup` archive back into an empty installation."""

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from yingdan.core.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "Restore a backup archive (database and uploaded files) into an empty installation."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Archive written by `yingdan backup`.")
        parser.add_argument("--force", action="store_true", help="Overwrite an installation that already has data.")
        parser.add_argument("--no-migrate", action="store_true", help="Do not apply newer migrations after restoring.")

    def handle(self, *args, file, force=False, no_migrate=False, **options):
        started = time.monotonic()
        try:
            manifest = restore_backup(file, force=force)
        except BackupError as exc:
            raise CommandError(str(exc))
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(self.style.SUCCESS(
            f"Restored the backup of {manifest['created_at']} (Yingdan {manifest['version']}, "
            f"{manifest['media']['files']} media files) in {time.monotonic() - started:.1f} s."
        ))
