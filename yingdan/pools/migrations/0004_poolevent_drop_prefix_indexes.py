"""Pool events: drop the single-column indexes of content_type and actor. The composite indexes
poolevent_object_idx (content_type, object_id, -at) and poolevent_actor_idx (actor, kind, pool, at) begin with
these columns and answer the same lookups; every claim and every recycled record writes an event, so two fewer
index entries each. Only the state changes to db_index=False; the indexes are dropped by name (AlterField would
rebuild the table on SQLite)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from yingdan.core.migration_ops import drop_indexes_by_name

INDEXES = {
    "pools_poolevent_actor_id_3175366a": "actor_id",
    "pools_poolevent_content_type_id_dd6494c8": "content_type_id",
}


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('pools', '0003_default_pools'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='poolevent',
                    name='actor',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by'),
                ),
                migrations.AlterField(
                    model_name='poolevent',
                    name='content_type',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='contenttypes.contenttype', verbose_name='object type'),
                ),
            ],
            database_operations=[drop_indexes_by_name("pools_poolevent", INDEXES)],
        ),
    ]
