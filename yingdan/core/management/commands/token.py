"""`yingdan token USERNAME [--name N] [--read-only] [--expires-days D]` — issue an API token.

The key is printed once; only its SHA-256 digest is stored.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from yingdan.core import context
from yingdan.core.choices import ChangeSource
from yingdan.org.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for a user and print its key (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username", help="Username (or mobile number) of an active user.")
        parser.add_argument("--name", default="", help="A label for the token, e.g. the integration using it.")
        parser.add_argument("--read-only", action="store_true", help="The token may only read (GET).")
        parser.add_argument("--expires-days", type=int, default=None, help="Expire after this many days.")

    def handle(self, *args, **options):
        User = get_user_model()
        username = options["username"].strip()
        user = User.objects.filter(username__iexact=username).first() or User.objects.filter(mobile=username).first()
        if user is None:
            raise CommandError(f"No user “{username}”.")
        if not user.is_active:
            raise CommandError(f"User “{user.username}” is deactivated.")
        days = options["expires_days"]
        if days is not None and days <= 0:
            raise CommandError("--expires-days must be a positive number of days.")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        with context.change_context(user=user, source=ChangeSource.SYSTEM):
            token, key = ApiToken.issue(user, name=options["name"][:100], read_only=options["read_only"], expires_at=expires_at)
        details = ["read-only" if token.read_only else "read-write"]
        if expires_at:
            details.append(f"expires {timezone.localtime(expires_at):%Y-%m-%d %H:%M}")
        self.stderr.write(f"Token for {user.username} ({', '.join(details)}). Use: Authorization: Token <key>")
        self.stdout.write(key)
