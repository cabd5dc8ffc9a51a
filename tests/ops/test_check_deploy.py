"""Production settings: `check --deploy` is clean, the default key is refused, /healthz is not redirected."""

import os
import subprocess
import sys

import pytest

SECRET = "test-only-7c1d9e3f5a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3e5f"


def production(tmp_path, *args, secret=SECRET):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(DJANGO_SETTINGS_MODULE="yingdan.settings.production", YINGDAN_DATA_DIR=str(tmp_path), SECRET_KEY=secret)
    return subprocess.run([sys.executable, "-m", "yingdan.manage", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = production(tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output.upper().replace("NO ISSUES", "")


@pytest.mark.parametrize("secret", ["", "short", "insecure-local-development-key-change-me-in-production-0123456789"])
def test_production_refuses_a_missing_or_default_secret_key(tmp_path, secret):
    result = production(tmp_path, "check", secret=secret)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_health_check_is_exempt_from_the_https_redirect(tmp_path):
    script = (
        "from django.test import Client; c = Client(HTTP_HOST='localhost');"
        "print(c.get('/healthz').status_code, c.get('/login/').status_code)"
    )
    result = production(tmp_path, "shell", "-c", script)
    assert result.returncode == 0, result.stderr
    health, login = result.stdout.split()[-2:]
    assert health in ("200", "503")  # not a redirect: load balancers probe over plain HTTP
    assert login == "301"
