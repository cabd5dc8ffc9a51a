"""`yingdan backup [FILE]`: one archive with a consistent database snapshot and the uploaded files."""

import time

from django.core.management.base import BaseCommand, CommandError

from yingdan.core.backup import BackupError, create_backup


class Command(BaseCommand):
    help = "Back up the database (consistent online snapshot) and uploaded files into one .tar.gz archive."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="Archive to write (default: $YINGDAN_DATA_DIR/backups/yingdan-YYYYmmdd-HHMMSS.tar.gz).")

    def handle(self, *args, file=None, **options):
        started = time.monotonic()
        try:
            archive, manifest = create_backup(file)
        except BackupError as exc:
            raise CommandError(str(exc))
        size_mb = archive.stat().st_size / 1024 / 1024
        self.stdout.write(self.style.SUCCESS(
            f"Backup written to {archive} ({size_mb:.1f} MB, {manifest['database']['vendor']} database, "
            f"{manifest['media']['files']} media files) in {time.monotonic() - started:.1f} s."
        ))
