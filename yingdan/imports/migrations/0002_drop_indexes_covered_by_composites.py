"""An import row's single-column job index goes: importrow_job_idx (job, result, row_number) begins with the same
column and answers the same lookups; an import writes one index entry fewer per row. Only the state changes to
db_index=False; the indexes are dropped by name (`drop_indexes_by_name`)."""

import django.db.models.deletion
from django.db import migrations, models

from yingdan.core.migration_ops import drop_indexes_by_name

FK_INDEXES = {'imports_importrow_job_id_208e071b': 'job_id'}


class Migration(migrations.Migration):

    dependencies = [
        ('imports', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='importrow',
                    name='job',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='rows', to='imports.importjob'),
                ),
            ],
            database_operations=[drop_indexes_by_name("imports_importrow", FK_INDEXES)],
        ),
    ]
