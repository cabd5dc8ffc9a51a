"""`yingdan rotate_secrets --old-key -` — re-encrypt the stored integration credentials under the current
SECRET_KEY after it was changed (see docs/configuration.md, "Rotating SECRET_KEY")."""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from yingdan.integrations import crypto


class Command(BaseCommand):
    help = ("Re-encrypt robot URLs/secrets and webhook secrets under the current SECRET_KEY. Values are opened with "
            "SECRET_KEY, SECRET_KEY_FALLBACKS or the --old-key keys. Rows no key opens are left as they are "
            "(and listed); the command then exits with an error.")

    def add_arguments(self, parser):
        parser.add_argument("--old-key", action="append", default=[], metavar="KEY",
                            help="A previous SECRET_KEY (repeatable). '-' reads keys from standard input, one a line, "
                                 "which keeps them out of the shell history and the process list.")
        parser.add_argument("--dry-run", action="store_true", help="Count what would change; write nothing.")

    def handle(self, *args, old_key, dry_run, **options):
        keys = []
        for k in old_key:
            if k == "-":
                keys += [line.strip() for line in sys.stdin if line.strip()]
            else:
                keys.append(k)
        rotated = unreadable = 0
        bad = []
        with transaction.atomic():
            for model, fields in crypto.encrypted_fields():
                # the field opens what SECRET_KEY/SECRET_KEY_FALLBACKS can; the rest comes back as UnreadableSecret
                # (carrying the stored token) and is tried with the old keys; every value is written back, which
                # encrypts it under the current key
                for obj in model.objects.all().only(*fields).iterator(chunk_size=500):
                    changes = {}
                    for f in fields:
                        value = getattr(obj, f)
                        stored = getattr(value, "stored", None)
                        if stored is not None:  # the field's own keys could not open it: try the old ones
                            plain = crypto.decrypt(stored, extra_keys=keys)
                            if isinstance(plain, crypto.UnreadableSecret):
                                unreadable += 1
                                bad.append(f"{model._meta.label} #{obj.pk} {f}")
                                continue
                            value = plain
                        if value:
                            changes[f] = value  # the field encrypts under the current key on save
                    if changes:
                        rotated += len(changes)
                        if not dry_run:
                            model.objects.filter(pk=obj.pk).update(**changes)
            if dry_run:
                transaction.set_rollback(True)
        verb = "would be re-encrypted" if dry_run else "re-encrypted"
        self.stdout.write(f"{rotated} values {verb} under the current SECRET_KEY.")
        if unreadable:
            for line in bad:
                self.stderr.write(f"unreadable: {line}")
            raise CommandError(f"{unreadable} values could not be decrypted with any key given; they were left as they "
                               f"are. Pass the SECRET_KEY they were written with as --old-key, or enter them again.")
