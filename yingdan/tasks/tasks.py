"""Huey jobs: the due-reminder run every five minutes."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from . import reminders


@db_periodic_task(crontab(minute="*/5"))
@lock_task("due-reminders")
def send_due_reminders():
    return reminders.run_due_reminders()
