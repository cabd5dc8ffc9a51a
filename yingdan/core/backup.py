"""Backup and restore of a whole installation: one .tar.gz with a manifest, a consistent database snapshot
and the uploaded files (`yingdan backup`, `yingdan restore`).

Archive layout::

    manifest.json          format, Yingdan version, database vendor, time, applied migrations, media totals
    database.sqlite3       SQLite: a snapshot taken with the online backup API (safe while the app runs)
    database.pgdump        PostgreSQL: `pg_dump --format=custom`
    media/...              the files under MEDIA_ROOT

Passwords never appear on a command line: pg_dump/pg_restore get the connection through PG* environment
variables. Restoring refuses a non-empty installation (any user row) unless forced, and refuses archive
members that would land outside the extraction directory (absolute paths, `..`, links, devices).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime
from importlib import metadata
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.pgdump"
MEDIA_DIR = "media"


class BackupError(Exception):
    """A backup or restore that cannot proceed; the message is meant for the operator."""


def default_archive_path() -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return Path(settings.DATA_DIR) / "backups" / f"yingdan-{stamp}.tar.gz"


def _version() -> str:
    try:
        return metadata.version("yingdan")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def applied_migrations(using: str = "default") -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in sorted(MigrationRecorder(connections[using]).applied_migrations()):
        applied.setdefault(app, []).append(name)
    return applied


def _sqlite_path(using: str) -> Path:
    name = str(connections[using].settings_dict["NAME"])
    if not name or name == ":memory:" or name.startswith("file::memory:") or "mode=memory" in name:
        raise BackupError("The database is in memory; there is nothing on disk to back up or restore.")
    return Path(name)


def postgres_env(using: str = "default") -> dict[str, str]:
    """libpq environment for pg_dump/pg_restore: the password travels in PGPASSWORD, never in argv."""
    db = connections[using].settings_dict
    env = {**os.environ, "PGDATABASE": str(db["NAME"])}
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    options = db.get("OPTIONS") or {}
    if options.get("sslmode"):
        env["PGSSLMODE"] = str(options["sslmode"])
    return env


def _run(args: list[str], env: dict[str, str]) -> None:
    try:
        result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(f"{args[0]} is not installed (Debian: apt-get install postgresql-client).")
    if result.returncode != 0:
        raise BackupError(f"{args[0]} failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")


# -- backup ------------------------------------------------------------------------------------------
def snapshot_database(dest_dir: Path, using: str = "default") -> str:
    """Write a consistent snapshot of the database into dest_dir; returns the member name."""
    vendor = connections[using].vendor
    if vendor == "sqlite":
        target = dest_dir / SQLITE_MEMBER
        source = sqlite3.connect(_sqlite_path(using), timeout=30)
        try:
            copy = sqlite3.connect(target)
            with copy:
                source.backup(copy)  # the online backup API: a transactionally consistent copy
            copy.close()
        finally:
            source.close()
        return SQLITE_MEMBER
    if vendor == "postgresql":
        target = dest_dir / POSTGRES_MEMBER
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"], postgres_env(using))
        return POSTGRES_MEMBER
    raise BackupError(f"Backups of {vendor} databases are not supported.")


def _media_files(media_root: Path):
    if not media_root.is_dir():
        return
    for path in sorted(media_root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


def create_backup(archive: Path | None = None, using: str = "default") -> tuple[Path, dict]:
    archive = Path(archive) if archive else default_archive_path()
    archive.parent.mkdir(parents=True, exist_ok=True)
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(prefix=".yingdan-backup-", dir=archive.parent) as tmp:
        tmp_dir = Path(tmp)
        db_member = snapshot_database(tmp_dir, using)
        media = list(_media_files(media_root))
        manifest = {
            "format": FORMAT,
            "app": "yingdan",
            "version": _version(),
            "created_at": timezone.now().isoformat(),
            "database": {"vendor": connections[using].vendor, "member": db_member},
            "migrations": applied_migrations(using),
            "media": {"files": len(media), "bytes": sum(p.stat().st_size for p in media)},
        }
        partial = tmp_dir / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(datetime.now().timestamp()), 0o600
            tar.addfile(info, io.BytesIO(data))
            tar.add(tmp_dir / db_member, arcname=db_member)
            for path in media:
                tar.add(path, arcname=f"{MEDIA_DIR}/{path.relative_to(media_root).as_posix()}", recursive=False)
        os.chmod(partial, 0o600)  # the archive holds every customer's data
        os.replace(partial, archive)
    return archive, manifest


# -- restore -----------------------------------------------------------------------------------------
def _check_member(member: tarfile.TarInfo) -> None:
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts or member.name.startswith(("/", "\\")) or "\\" in member.name:
        raise BackupError(f"Unsafe path in the archive: {member.name!r}")
    if not (member.isfile() or member.isdir()):
        raise BackupError(f"Unsupported entry in the archive (link or device): {member.name!r}")
    top = path.parts[0] if path.parts else ""
    if top not in (MANIFEST, SQLITE_MEMBER, POSTGRES_MEMBER, MEDIA_DIR):
        raise BackupError(f"Unexpected entry in the archive: {member.name!r}")


def read_manifest(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            _check_member(member)
        try:
            manifest = json.load(tar.extractfile(MANIFEST))
        except KeyError:
            raise BackupError("Not a Yingdan backup: manifest.json is missing.")
    if manifest.get("app") != "yingdan" or manifest.get("format") != FORMAT:
        raise BackupError("Not a Yingdan backup of a supported format.")
    return manifest


def installation_is_empty(using: str = "default") -> bool:
    from yingdan.org.models import User

    connection = connections[using]
    if User._meta.db_table not in connection.introspection.table_names():
        return True
    return not User.objects.using(using).exists()


def unknown_migrations(manifest: dict, using: str = "default") -> list[str]:
    """Migrations applied in the archive that this code does not have (the backup is from a newer version)."""
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return [f"{app}.{name}" for app, names in manifest.get("migrations", {}).items() for name in names if (app, name) not in known]


def _drop_tables(using: str) -> None:
    connection = connections[using]
    tables = connection.introspection.table_names()
    if tables:
        with connection.cursor() as cursor:
            quoted = ", ".join(connection.ops.quote_name(t) for t in tables)
            cursor.execute(f"DROP TABLE IF EXISTS {quoted} CASCADE")
    connection.close()


def restore_backup(archive: Path, *, force: bool = False, using: str = "default") -> dict:
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"No such file: {archive}")
    manifest = read_manifest(archive)
    vendor = connections[using].vendor
    if manifest["database"]["vendor"] != vendor:
        raise BackupError(
            f"The archive holds a {manifest['database']['vendor']} database; this installation uses {vendor}. "
            "Restore into an installation with the same database engine."
        )
    newer = unknown_migrations(manifest, using)
    if newer and not force:
        raise BackupError(f"The backup is from a newer Yingdan (unknown migrations: {', '.join(newer[:5])}). Upgrade first.")
    if not force and not installation_is_empty(using):
        raise BackupError("This installation already has users. Restore only into an empty installation, or use --force to overwrite it.")

    with tempfile.TemporaryDirectory(prefix=".yingdan-restore-") as tmp:
        tmp_dir = Path(tmp)
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member)
            tar.extractall(tmp_dir, members=members, filter="data")
        db_file = tmp_dir / manifest["database"]["member"]
        if not db_file.is_file():
            raise BackupError("The archive has no database snapshot.")
        connections.close_all()
        if vendor == "sqlite":
            target = _sqlite_path(using)
            target.parent.mkdir(parents=True, exist_ok=True)
            source = sqlite3.connect(db_file)
            try:
                dest = sqlite3.connect(target, timeout=30)
                with dest:
                    source.backup(dest)  # replaces every page of the target, WAL-safe
                dest.close()
            finally:
                source.close()
        else:
            _drop_tables(using)  # tables a newer schema added would otherwise survive and clash with migrate
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                  "--exit-on-error", f"--dbname={connections[using].settings_dict['NAME']}", str(db_file)], postgres_env(using))
        media_src = tmp_dir / MEDIA_DIR
        if media_src.is_dir():
            media_root = Path(settings.MEDIA_ROOT)
            media_root.mkdir(parents=True, exist_ok=True)
            shutil.copytree(media_src, media_root, dirs_exist_ok=True)
    return manifest
