"""The change log's single-column content type and user indexes go: core_change_object_idx (content type, object,
-time) and core_change_user_idx (user, -time) begin with the same columns and answer the same lookups; every
audited write (an import writes one a record) maintains two indexes fewer. Only the state changes to
db_index=False; the indexes are dropped by name (`drop_indexes_by_name`)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from yingdan.core.migration_ops import drop_indexes_by_name

FK_INDEXES = {'core_objectchange_content_type_id_b3a6f4f6': 'content_type_id', 'core_objectchange_user_id_2b2142be': 'user_id'}


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('core', '0003_attachment'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='objectchange',
                    name='content_type',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contenttypes.contenttype', verbose_name='object type'),
                ),
                migrations.AlterField(
                    model_name='objectchange',
                    name='user',
                    field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='user'),
                ),
            ],
            database_operations=[drop_indexes_by_name("core_objectchange", FK_INDEXES)],
        ),
    ]
