"""The API under gunicorn as docs/deployment.md recommends it (sync workers, 2 x cores + 1: 5 on 2 cores;
production settings; Redis for the cache, so the per-token rate limit runs as in production) on the benchmark
database: GET customer by id — throughput with 8 concurrent clients (target >= 300 requests/s on 2 cores) —
and the customer list's p95 (target 80 ms) at 1,000,000 customers, as the regional manager with a token.

Besides wall-clock numbers (which depend on whatever else runs on the machine) the result carries the CPU
time per request of the gunicorn workers and of the load generator, read from /proc: the cost per request,
independent of the load. Environment: BENCH_API_WORKERS (default 5), BENCH_API_THREADS (default 1: sync
workers), BENCH_REDIS_URL (default redis://127.0.0.1:6379/15; "off": no Redis, the bench's local cache).
"""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 8
SECONDS = 8
CPU_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_url() -> str | None:
    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    if url.lower() in ("", "off", "none", "0"):
        return None
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001 — no Redis here: measure with the local cache instead
        return None
    return url


def process_cpu_seconds(pids) -> float:
    """User + system CPU time of processes (and their reaped children) from /proc."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return total / CPU_TICKS


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    try:
        return [int(p) for p in children.read_text().split()]
    except OSError:
        return []


class Client:
    """A lean HTTP/1.1 client (http.client): the load generator shares the 2 cores with the server, so it
    must cost little. Reconnects when the server closes the connection (sync workers do after each request)."""

    def __init__(self, port: int, headers: dict):
        self.port = port
        self.headers = headers
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def get(self, path: str) -> tuple[int, bytes]:
        for attempt in (1, 2):
            try:
                self.conn.request("GET", path, headers=self.headers)
                response = self.conn.getresponse()
                body = response.read()
                return response.status, body
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        self.conn.close()


def run(ctx) -> dict:
    from yingdan.customers.models import Customer
    from yingdan.org.models import ApiToken

    ids = list(Customer.objects.visible_to(ctx.user, "view").order_by("-id").values_list("id", flat=True)[:5000])
    token, key = ApiToken.issue(ctx.user, name="bench")
    port = free_port()
    workers = int(os.environ.get("BENCH_API_WORKERS", "5"))
    threads = int(os.environ.get("BENCH_API_THREADS", "1"))
    redis = redis_url()
    env = {**os.environ}
    if redis:
        # Production settings (docs/deployment.md) over plain HTTP on localhost; the rate limit is on, high
        # enough never to answer 429 here, so its counter round trip is part of every request.
        env.update({
            "DJANGO_SETTINGS_MODULE": "yingdan.settings.production", "REDIS_URL": redis,
            "SECRET_KEY": secrets.token_urlsafe(48), "SECURE_SSL_REDIRECT": "false", "ALLOWED_HOSTS": "127.0.0.1",
            "API_RATE_LIMIT": "100000000/minute", "LOG_LEVEL": "WARNING",
        })
    else:
        env["API_RATE_LIMIT"] = "off"  # the bench settings' cache is per process: a limit would not hold anyway
    command = [str(Path(sys.executable).parent / "gunicorn"), "yingdan.wsgi:application", "-b", f"127.0.0.1:{port}",
               "-w", str(workers), "--log-level", "warning"]
    if threads > 1:
        command += ["--threads", str(threads)]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    headers = {"Authorization": f"Token {key}", "Accept": "application/json"}
    setup = f"{workers} workers x {threads} thread(s), {'production settings + Redis' if redis else 'bench settings, local cache'}"
    try:
        probe = Client(port, headers)
        for _ in range(150):
            try:
                status, body = probe.get(f"/api/v1/customers/{ids[0]}/")
                if status == 200:
                    break
                raise RuntimeError(f"GET by id answered {status}: {body[:300]!r}")
            except OSError:
                probe.close()
                probe = Client(port, headers)
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start")
        # Warm every worker (imports, URL resolver, caches) before measuring.
        for i in range(workers * 20):
            probe.get(f"/api/v1/customers/{ids[i % len(ids)]}/")
        probe.close()

        def hammer(n):
            done, lat = 0, []
            client = Client(port, headers)
            end = time.perf_counter() + SECONDS
            i = n
            while time.perf_counter() < end:
                t = time.perf_counter()
                status, _body = client.get(f"/api/v1/customers/{ids[i % len(ids)]}/")
                lat.append((time.perf_counter() - t) * 1000)
                if status != 200:
                    raise RuntimeError(f"GET by id: {status}")
                done += 1
                i += CLIENTS
            client.close()
            return done, lat

        pids = worker_pids(server.pid)
        load = os.getloadavg()[0]
        server_cpu, client_cpu = process_cpu_seconds(pids), time.process_time()
        started = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            parts = list(pool.map(hammer, range(CLIENTS)))
        elapsed = time.perf_counter() - started
        server_cpu, client_cpu = process_cpu_seconds(pids) - server_cpu, time.process_time() - client_cpu
        total = sum(p[0] for p in parts)
        rps = total / elapsed
        server_ms, client_ms = 1000 * server_cpu / total, 1000 * client_cpu / total
        ctx.log(f"api ({setup}): GET by id {rps:.0f} req/s ({total} in {elapsed:.1f} s, {CLIENTS} clients); CPU per "
                f"request: gunicorn {server_ms:.2f} ms, load generator {client_ms:.2f} ms; load average {load:.1f}")
        latencies = [x for p in parts for x in p[1]]
        results = ctx.record(
            "api_get_by_id_8_clients", latencies, 1000 * CLIENTS / 300, requests_per_s=round(rps), ok_throughput=rps >= 300,
            server_cpu_ms_per_request=round(server_ms, 2), client_cpu_ms_per_request=round(client_ms, 2),
            load_average=round(load, 1), setup=setup,
        )

        samples = []
        client = Client(port, headers)
        for i in range(ctx.repeat + 3):
            t = time.perf_counter()
            status, _body = client.get("/api/v1/customers/?page_size=50" if i % 2 else "/api/v1/customers/")
            if status != 200:
                raise RuntimeError(f"list: {status}")
            if i >= 3:
                samples.append((time.perf_counter() - t) * 1000)
        client.close()
        results |= ctx.record("api_customer_list", samples, 80, setup=setup)
        return results
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        token.delete()
