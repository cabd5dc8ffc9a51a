from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from . import brief, engine, scheduled


@db_task()
def run_rule(rule_id, label, object_id, event_name, chain):
    engine.execute(rule_id, label, object_id, event_name, chain)


@db_periodic_task(crontab(minute="7"))
@lock_task("automation-scheduled-rules")
def run_scheduled_rules():
    return scheduled.run_scheduled()


@db_periodic_task(crontab(minute="*"))
@lock_task("automation-briefs")
def send_briefs():
    return brief.send_due_briefs()
