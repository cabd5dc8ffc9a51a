"""`yingdan import OBJECT FILE [--dry-run] [--mode skip|update|create]` — the same pipeline as the import page."""

import os

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Import customers (with contacts), contacts, leads, follow-ups or opportunities from .xlsx/.xls/.csv."

    def add_arguments(self, parser):
        parser.add_argument("object", help="customers, contacts, leads, followups, opportunities")
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Preview: check every row, write nothing.")
        parser.add_argument("--mode", choices=["skip", "update", "create"], default="skip", help="What to do with duplicates.")
        parser.add_argument("--user", help="Import as this username (default: the first active superuser).")
        parser.add_argument("--sheet", default="")
        parser.add_argument("--owner-mode", choices=["me", "column", "team"], default="me")
        parser.add_argument("--department", type=int, help="Team (department id) for --owner-mode team.")
        parser.add_argument("--errors", help="Write the error file here.")

    def handle(self, *args, **o):
        from yingdan.imports import services

        User = get_user_model()
        if o["user"]:
            user = User.objects.filter(username=o["user"], is_active=True).first()
        else:
            user = User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
        if user is None:
            raise CommandError("No such active user.")
        if not os.path.isfile(o["file"]):
            raise CommandError(f"No file {o['file']}")
        options = {"mode": o["mode"], "owner_mode": o["owner_mode"], "department": o.get("department")}
        with open(o["file"], "rb") as fh:
            upload = File(fh, name=os.path.basename(o["file"]))
            try:
                job = services.create_job(user, o["object"], upload, options=options, dry_run=o["dry_run"], sheet=o["sheet"])
            except (ValidationError, PermissionDenied) as exc:
                raise CommandError("; ".join(getattr(exc, "messages", [str(exc)]))) from None
        self.stdout.write(
            f"import #{job.pk} {job.status}: rows={job.total_rows} created={job.created} updated={job.updated} "
            f"skipped={job.skipped} failed={job.failed} duplicates={job.duplicates}")
        if job.message:
            self.stderr.write(job.message)
        if job.failed:
            data, ext = services.error_file(job)
            path = o["errors"] or f"{os.path.splitext(o['file'])[0]}.errors.{ext}"
            with open(path, "wb") as fh:
                fh.write(data)
            self.stdout.write(f"errors: {path}")
            for r in job.rows.filter(result="failed").order_by("row_number")[:20]:
                self.stdout.write(f"  row {r.row_number}: {r.error}")
        if job.status == "failed":
            raise CommandError(job.message)
