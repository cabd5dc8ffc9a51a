"""Webhook delivery throughput to a local receiver, through the worker's sending path (services.send_delivery:
read the row, sign, POST with the shared keep-alive httpx client, record status/time). Target: >= 200
deliveries per second, i.e. <= 5 ms per delivery on average, with a pool of worker threads like huey's.
Also: the cost the event handler adds to a save when no webhook subscribes (cached subscriptions)."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

N = 2000
THREADS = 8
TARGET_PER_S = 200


def run(ctx) -> dict:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request would be measured too
    import httpx
    from django.db import connection, connections

    from yingdan.core.events import Event
    from yingdan.integrations import services
    from yingdan.integrations.models import Webhook, WebhookDelivery

    results = {}
    Webhook.objects.filter(name__startswith="bench-").delete()
    services.invalidate_subscriptions()
    event = Event(name="customers.customer.update", model_label="customers.customer", object_id=1, action="update")
    results |= ctx.time_call("webhook_event_no_subscriber", lambda i: services.on_event(event), target_ms=0.05, n=2000)

    # the receiver runs in its own process (in-process it would compete with the senders for the GIL)
    proc = subprocess.Popen([sys.executable, "-m", "yingdan.integrations.tests.fakeserver"], stdout=subprocess.PIPE, text=True)
    base = proc.stdout.readline().strip()
    if True:
        hook = Webhook.objects.create(name="bench-receiver", url=f"{base}/hook/bench", events=["bench.*"],
                                      secret="whsec_bench")
        try:
            ids = []
            for i in range(N):
                ids += services.create_deliveries([hook.pk], "bench.event.fired", f"bench-{i}", {"n": i, "name": "客户" * 10})
            chunks = [ids[i::THREADS] for i in range(THREADS)]

            def work(chunk):
                try:
                    return services.deliver_batch(chunk)
                finally:
                    connections.close_all()

            if connection.vendor == "sqlite":
                connection.close()  # threads open their own connections
            started = time.perf_counter()
            with ThreadPoolExecutor(THREADS) as pool:
                sent = sum(pool.map(work, chunks))
            elapsed = time.perf_counter() - started
            received = httpx.get(f"{base}/count/bench").json()["count"]
            per_s = sent / elapsed
            ctx.log(f"webhooks: {sent}/{N} delivered ({received} received) in {elapsed:.2f} s = {per_s:.0f}/s "
                    f"with {THREADS} threads (target >= {TARGET_PER_S}/s)")
            ms = WebhookDelivery.objects.filter(webhook=hook).values_list("response_ms", flat=True)
            results |= ctx.record("webhook_delivery_avg", [elapsed * 1000 / max(sent, 1)], 1000 / TARGET_PER_S,
                                  per_second=round(per_s), delivered=sent, received=received,
                                  response_p50_ms=sorted(ms)[len(ms) // 2] if ms else None)
        finally:
            proc.terminate()
            proc.wait(10)
            WebhookDelivery.objects.filter(webhook=hook).delete()
            hook.delete()
            services.invalidate_subscriptions()
    return results
