"""GET /healthz: 200 with database and queue status for anyone (load balancers do not log in); 503 when
a dependency fails, without leaking the reason."""

import pytest
from django.db import OperationalError, connection
from huey.contrib.djhuey import HUEY

from yingdan.core.views import health

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_queue_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["vendor"] == connection.vendor
    assert body["database"]["latency_ms"] >= 0
    assert body["queue"] == {"ok": True, "backend": type(HUEY).__name__, "pending": HUEY.pending_count()}


def test_healthz_is_degraded_when_the_queue_is_unreachable(client, monkeypatch):
    def broken():
        raise ConnectionError("redis://:s3cret@10.0.0.5:6379 refused")

    monkeypatch.setattr(HUEY, "pending_count", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["queue"]["ok"] is False
    assert body["database"]["ok"] is True
    assert b"s3cret" not in response.content and b"10.0.0.5" not in response.content


class _BrokenConnection:
    vendor = "postgresql"

    def cursor(self):
        raise OperationalError('connection to server at "db.internal" failed: password authentication failed for user "crm"')


def test_healthz_is_degraded_when_the_database_fails(client, monkeypatch):
    monkeypatch.setattr(health, "connection", _BrokenConnection())
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == {"ok": False, "vendor": "postgresql"}
    assert b"db.internal" not in response.content and b"crm" not in response.content


def test_healthz_only_answers_reads(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200


def test_healthz_stays_public_when_every_page_requires_login(client, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django.contrib.auth.middleware.LoginRequiredMiddleware"]
    assert client.get("/customers/").status_code == 302  # the middleware is active ...
    assert client.get("/healthz").status_code == 200  # ... and the health check is exempt
