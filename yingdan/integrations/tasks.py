"""huey jobs: webhook batches, robot queues, and the per-minute sweep for retries and lost jobs."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from yingdan.core.context import change_context

from . import services


@db_task()
def deliver_webhooks(ids):
    with change_context(source="system"):
        services.deliver_batch(ids)


@db_task()
def send_robot(robot_id):
    with change_context(source="system"):
        wait = services.send_robot_queue(robot_id)
    if wait > 0:
        send_robot.schedule((robot_id,), delay=int(wait) + 1)


@db_periodic_task(crontab(minute="*"))
def integrations_sweep():
    with change_context(source="system"):
        services.process_due_webhooks()
        services.process_due_robots()
