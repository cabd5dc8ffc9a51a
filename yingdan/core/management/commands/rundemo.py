"""`yingdan rundemo`: the web server and the huey worker together, for `make demo`.

Both run as child processes in their own process groups. Ctrl-C (SIGINT), SIGTERM or SIGHUP stops both: each group
gets SIGTERM, and SIGKILL if it has not exited after a grace period. If either child dies, the other is
stopped too and the command exits with an error.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from yingdan.demo import company
from yingdan.org.models import User

GRACE_SECONDS = 10


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is not "in use"
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class Command(BaseCommand):
    help = "Run the web server and the background worker together (the demo); Ctrl-C stops both."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--gunicorn", action="store_true", help="Serve with gunicorn instead of Django's runserver.")

    def handle(self, *args, host="127.0.0.1", port=8000, gunicorn=False, **options):
        if not _port_free(host, port):
            raise CommandError(f"Port {port} on {host} is already in use. Stop the other server or choose another: make demo PORT=8001")
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "yingdan.settings.dev"),
               "PYTHONUNBUFFERED": "1"}
        manage = [sys.executable, "-m", "yingdan.manage"]
        if gunicorn:
            web = [sys.executable, "-m", "gunicorn", "yingdan.wsgi:application", "--bind", f"{host}:{port}", "--workers", "2"]
        else:
            web = [*manage, "runserver", f"{host}:{port}", "--noreload"]
        self.children: dict[str, subprocess.Popen] = {}
        self.stopping = False
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            self.children["web"] = subprocess.Popen(web, env=env, start_new_session=True)
            self.children["worker"] = subprocess.Popen([*manage, "run_huey"], env=env, start_new_session=True)
            url = f"http://{host}:{port}/"
            if self._wait_ready(f"{url}healthz"):
                self._banner(url)
            code = self._supervise()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if code:
            raise CommandError(f"A demo process exited unexpectedly (exit {code}); both were stopped.")

    def _on_signal(self, signum, frame) -> None:
        self.stopping = True

    def _wait_ready(self, url: str, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping:
            if any(p.poll() is not None for p in self.children.values()):
                return False
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local URL we just started
                    return response.status == 200
            except urllib.error.HTTPError as exc:
                return exc.code in (200, 503)
            except OSError:
                time.sleep(0.3)
        return False

    def _banner(self, url: str) -> None:
        try:
            existing = set(User.objects.filter(username__in=[u for u, _, _ in company.DEMO_LOGINS]).values_list("username", flat=True))
        except DatabaseError:  # not migrated yet: the server still runs and says so on every page
            existing = set()
        lines = ["", "=" * 72, f"  Yingdan 赢单 is running: {url}", f"  Data directory: {settings.DATA_DIR}", ""]
        if existing:
            lines.append(f"  Demo logins (password {company.DEMO_PASSWORD}):")
            for username, role, note in company.DEMO_LOGINS:
                if username in existing:
                    lines.append(f"    {username:<10} {role:<6} {note}")
            lines.append("    (more: manager02…manager12, rep01…rep23, finance02)")
        else:
            lines.append("  No demo users: run `yingdan seed --demo` or `yingdan createsuperuser`.")
        lines += ["", f"  Health: {url}healthz   API docs: {url}api/docs/", "  Press Ctrl-C to stop the web server and the worker.", "=" * 72, ""]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()

    def _supervise(self) -> int:
        while not self.stopping:
            for name, process in self.children.items():
                code = process.poll()
                if code is not None:
                    self.stderr.write(f"The {name} process exited (exit {code}); stopping the demo.")
                    return code or 1
            time.sleep(0.5)
        self.stdout.write("Stopping the web server and the worker…")
        return 0

    def _stop_all(self) -> None:
        for process in self.children.values():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + GRACE_SECONDS
        for process in self.children.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
        if self.children:
            self.stdout.write("Stopped.")
