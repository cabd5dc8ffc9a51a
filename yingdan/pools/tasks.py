"""The nightly recycling job (huey). The hour comes from the setting (or environment variable) POOL_RECYCLE_HOUR
(default 2, server local time)."""

import os

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import services

RECYCLE_HOUR = int(getattr(settings, "POOL_RECYCLE_HOUR", os.environ.get("POOL_RECYCLE_HOUR", 2)))


@db_periodic_task(crontab(hour=str(RECYCLE_HOUR), minute="0"))
def nightly_recycle():
    return services.run_nightly().as_dict()


@db_task()
def recycle_now():
    """Started by an admin's "run now"."""
    return services.run_nightly().as_dict()
