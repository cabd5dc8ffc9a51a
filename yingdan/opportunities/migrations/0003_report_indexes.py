"""Covering indexes for the reports (yingdan.reports.queries), added by the reports work.

Each report filters a date or state range plus the data scope (department/owner) and aggregates a few
columns. With every column it reads in the index, the database answers from the index alone (PostgreSQL
index-only scans, SQLite covering indexes) instead of fetching hundreds of thousands of scattered table rows:

- opp_report_stage_idx   open deals by stage: funnel, weighted forecast, stalled deals (stage + time in stage)
- opp_report_closed_idx  closed deals by close date: win rate, loss reasons, sales cycle, won in forecast
- stagechange_report_idx stage moves by department and date: conversion, days in stage, SOP compliance

The indexes are created with plain SQL and are not part of the model state (the model definitions belong to
the opportunities app; these only serve the reports' read paths).
"""

from django.db import migrations

INDEXES = {
    "opp_report_stage_idx": (
        "opportunities_opportunity",
        ["state", "stage_id", "stage_entered_at", "pipeline_id", "department_id", "owner_id", "amount", "probability",
         "expected_close", "created_at", "id"],
    ),
    "opp_report_closed_idx": (
        "opportunities_opportunity",
        ["state", "closed_at", "pipeline_id", "department_id", "owner_id", "source_id", "loss_reason_id", "amount",
         "created_at", "id"],
    ),
    "stagechange_report_idx": (
        "opportunities_stagechange",
        ["department_id", "changed_at", "pipeline_id", "owner_id", "opportunity_id", "from_stage_id", "to_stage_id",
         "checklist_complete", "days_over_limit", "seconds_in_previous"],
    ),
}


def create(apps, schema_editor):
    qn = schema_editor.quote_name
    for name, (table, columns) in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {qn(name)} ON {qn(table)} ({', '.join(qn(c) for c in columns)})")


def drop(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0002_default_pipeline")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
