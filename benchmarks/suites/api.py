"""The API under gunicorn (2 workers × 4 threads) on the benchmark database: GET customer by id — throughput with
8 concurrent clients (target ≥ 300 requests/s on 2 cores) — and the customer list's p95 (target 80 ms) at
1,000,000 customers, as the regional manager with a token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 8
SECONDS = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(ctx) -> dict:
    import httpx

    from yingdan.customers.models import Customer
    from yingdan.org.models import ApiToken

    ids = list(Customer.objects.visible_to(ctx.user, "view").order_by("-id").values_list("id", flat=True)[:5000])
    token, key = ApiToken.issue(ctx.user, name="bench")
    port = free_port()
    env = {**os.environ, "API_RATE_LIMIT": "off"}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "yingdan.wsgi:application", "-b", f"127.0.0.1:{port}",
         "-w", "2", "--threads", "4", "--log-level", "warning"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Token {key}"}
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/api/v1/customers/{ids[0]}/", headers=headers, timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start")

        def hammer(n):
            done, lat = 0, []
            with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
                end = time.perf_counter() + SECONDS
                i = n
                while time.perf_counter() < end:
                    t = time.perf_counter()
                    r = client.get(f"/api/v1/customers/{ids[i % len(ids)]}/")
                    lat.append((time.perf_counter() - t) * 1000)
                    if r.status_code != 200:
                        raise RuntimeError(f"GET by id: {r.status_code}")
                    done += 1
                    i += CLIENTS
            return done, lat

        started = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            parts = list(pool.map(hammer, range(CLIENTS)))
        elapsed = time.perf_counter() - started
        total = sum(p[0] for p in parts)
        rps = total / elapsed
        ctx.log(f"api: GET by id {rps:.0f} req/s ({total} in {elapsed:.1f} s, {CLIENTS} clients)")
        latencies = [x for p in parts for x in p[1]]
        results = ctx.record("api_get_by_id_8_clients", latencies, 1000 * CLIENTS / 300, requests_per_s=round(rps), ok_throughput=rps >= 300)

        samples = []
        with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
            for i in range(ctx.repeat + 3):
                t = time.perf_counter()
                r = client.get("/api/v1/customers/", params={"page_size": 50} if i % 2 else {})
                if r.status_code != 200:
                    raise RuntimeError(f"list: {r.status_code}")
                if i >= 3:
                    samples.append((time.perf_counter() - t) * 1000)
        results |= ctx.record("api_customer_list", samples, 80)
        return results
    finally:
        server.terminate()
        server.wait(10)
        token.delete()
