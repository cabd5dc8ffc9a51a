"""Production: HTTPS, secure cookies, PostgreSQL + Redis from the environment.

`yingdan check --deploy --settings=yingdan.settings.production` passes with no warnings when SECRET_KEY is a
real secret (the default is refused).
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATA_DIR, SECRET_KEY, env_bool

DEBUG = False
if SECRET_KEY.startswith("insecure-") or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("Set SECRET_KEY to a random value of at least 50 characters in production.")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Load balancers probe web nodes over plain HTTP: the health check must not be redirected to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# SQLite-only installations keep the database and the huey queue here; with PostgreSQL + Redis only uploads.
try:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
except OSError:  # a read-only image with external storage: nothing to create
    pass
