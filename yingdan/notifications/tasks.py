"""huey jobs of the e-mail channel: send after commit, and a per-minute sweep for mails held by quiet hours."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import services


@db_task()
def send_notification_emails(ids):
    services.send_emails(ids)


@db_periodic_task(crontab(minute="*"))
def notification_emails_sweep():
    services.send_emails()
