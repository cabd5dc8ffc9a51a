"""`yingdan rundemo` (what `make demo` ends with): web server and worker start together and both stop on
SIGTERM / Ctrl-C, leaving no process behind."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            found.append(int(status.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the child processes")
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_rundemo_runs_web_and_worker_and_stops_both(tmp_path, stop_signal):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(DJANGO_SETTINGS_MODULE="yingdan.settings.dev", YINGDAN_DATA_DIR=str(tmp_path))
    env.pop("DATABASE_URL", None)
    demo = subprocess.Popen([sys.executable, "-m", "yingdan.manage", "rundemo", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    children: list[int] = []
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(demo.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and demo.poll() is None and not any("Press Ctrl-C" in line for line in lines):
            time.sleep(0.2)  # the banner is printed once the server answers /healthz
        assert any(f"is running: http://127.0.0.1:{port}/" in line for line in lines), "".join(lines)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            body = response.read().decode()
        assert '"status": "ok"' in body and "SqliteHuey" in body
        children = _children(demo.pid)
        assert len(children) == 2  # the web server and the huey consumer

        demo.send_signal(stop_signal)
        demo.wait(timeout=60)
        reader.join(timeout=10)
        output = "".join(lines)
        assert demo.returncode == 0, output
        assert output.rstrip().endswith("Stopped."), output
        assert not [pid for pid in children if _alive(pid)]
        with socket.socket() as sock:  # the port is released
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
    finally:
        for pid in [demo.pid, *children]:  # whatever happened, leave nothing running
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        demo.wait()
