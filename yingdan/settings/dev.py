"""Local development and `make demo`: safe defaults, SQLite under YINGDAN_DATA_DIR."""

from .base import *  # noqa: F403
from .base import DATA_DIR, env_bool

DEBUG = env_bool("DEBUG", True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
DATA_DIR.mkdir(parents=True, exist_ok=True)
