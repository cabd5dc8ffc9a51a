"""`yingdan backup` / `yingdan restore`: a full round trip between two installations (subprocesses with their
own YINGDAN_DATA_DIR and, on PostgreSQL, their own databases), and the archive-safety checks."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest

from yingdan.core.backup import MANIFEST, BackupError, read_manifest

HERE = Path(__file__).resolve().parent
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def _admin_url(url: str, dbname: str) -> str:
    return url.rsplit("/", 1)[0] + f"/{dbname}"


@pytest.fixture
def installation(tmp_path):
    """Factory of empty installations: (env, data_dir). Drops the PostgreSQL databases it created."""
    created = []

    def make(name: str) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "YINGDAN_TEST", "DJANGO_ALLOW"))}
        env.update(DJANGO_SETTINGS_MODULE="yingdan.settings.dev", YINGDAN_DATA_DIR=str(tmp_path / name), PYTHONPATH=str(HERE.parent.parent))
        if ON_POSTGRES:
            import psycopg

            dbname = f"yingdan_rt_{name}_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(_admin_url(os.environ["DATABASE_URL"], "postgres"), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{dbname}"')
            created.append(dbname)
            env["DATABASE_URL"] = _admin_url(os.environ["DATABASE_URL"], dbname)
        else:
            env.pop("DATABASE_URL", None)
        return env

    yield make
    if created:
        import psycopg

        with psycopg.connect(_admin_url(os.environ["DATABASE_URL"], "postgres"), autocommit=True) as conn:
            for dbname in created:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def run(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def yingdan(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run(env, "-m", "yingdan.manage", *args, check=check)


def dump(env: dict) -> dict:
    return json.loads(run(env, str(HERE / "roundtrip_data.py"), "dump").stdout)


def test_backup_and_restore_round_trip_loses_nothing(installation, tmp_path):
    source = installation("src")
    yingdan(source, "migrate", "--noinput", "-v", "0")
    run(source, str(HERE / "roundtrip_data.py"), "create")
    before = dump(source)
    archive = tmp_path / "backup.tar.gz"
    out = yingdan(source, "backup", str(archive)).stdout
    assert str(archive) in out

    manifest = read_manifest(archive)
    assert manifest["database"]["vendor"] == ("postgresql" if ON_POSTGRES else "sqlite")
    assert "0001_initial" in manifest["migrations"]["customers"]
    assert manifest["media"]["files"] == 1
    assert oct(archive.stat().st_mode & 0o777) == oct(0o600)

    target = installation("dst")  # empty: not even migrated
    yingdan(target, "restore", str(archive))
    after = dump(target)

    assert after["counts"] == before["counts"]
    assert before["counts"]["customers"] == 3 and before["counts"]["contacts"] == 3
    assert before["counts"]["changes"] >= 8  # creates of users, department, customers, contacts, one update
    for key in ("users", "customers", "contacts", "changes", "media"):
        assert after[key] == before[key], key
    assert after["logins"] == [True, True]
    assert any(c["action"] == "update" and c["changes"].get("name") == ["<script>alert(1)</script>有限公司", "改过的名字"]
               for c in after["changes"])

    # A second restore into the now non-empty installation is refused without --force ...
    refused = yingdan(target, "restore", str(archive), check=False)
    assert refused.returncode != 0
    assert "already has users" in refused.stderr
    # ... and allowed with it, still without duplicating anything.
    yingdan(target, "restore", "--force", str(archive))
    assert dump(target)["counts"] == before["counts"]


def _archive_with(tmp_path: Path, *members: tarfile.TarInfo, payload: bytes = b"x") -> Path:
    path = tmp_path / "evil.tar.gz"
    manifest = json.dumps({"format": 1, "app": "yingdan", "database": {"vendor": "sqlite", "member": "database.sqlite3"}}).encode()
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
        for member in members:
            tar.addfile(member, io.BytesIO(payload) if member.isfile() else None)
    return path


def _file(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = 1
    return info


@pytest.mark.parametrize("name", ["../outside.txt", "media/../../outside.txt", "/etc/outside.txt", "media/a/../../../x"])
def test_restore_refuses_paths_outside_the_archive(tmp_path, name):
    with pytest.raises(BackupError, match="Unsafe path"):
        read_manifest(_archive_with(tmp_path, _file(name)))
    assert not (tmp_path.parent / "outside.txt").exists()


def test_restore_refuses_links_and_unexpected_members(tmp_path):
    link = tarfile.TarInfo("media/passwd")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with pytest.raises(BackupError, match="link or device"):
        read_manifest(_archive_with(tmp_path, link))
    with pytest.raises(BackupError, match="Unexpected entry"):
        read_manifest(_archive_with(tmp_path, _file("settings.py")))


def test_restore_refuses_files_that_are_not_yingdan_backups(tmp_path):
    path = tmp_path / "other.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.addfile(_file("media/a.txt"), io.BytesIO(b"x"))
    with pytest.raises(BackupError, match="manifest.json is missing"):
        read_manifest(path)
