"""Test settings: the database comes from DATABASE_URL (SQLite by default), tasks run immediately."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import HUEY

DATA_DIR = Path(os.environ.get("YINGDAN_TEST_DATA_DIR") or tempfile.mkdtemp(prefix="yingdan-test-"))
MEDIA_ROOT = DATA_DIR / "media"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HUEY = {**HUEY, "immediate": True, "huey_class": "huey.MemoryHuey"}
HUEY.pop("filename", None)
HUEY.pop("url", None)
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# The live server shares the in-memory SQLite connection between request threads: serialise requests there.
from .base import DATABASES, MIDDLEWARE  # noqa: E402

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    MIDDLEWARE = ["yingdan.core.testing.SerialRequestsMiddleware", *MIDDLEWARE]
