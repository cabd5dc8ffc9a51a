"""The single-column foreign-key indexes of department, level and status go: cust_dept_idx, cust_level_idx and
cust_status_idx ((column, -id)) begin with the same column and answer the same lookups (and the list's
newest-first page). A recycling night or a claim rewrites every index entry of a moved customer on PostgreSQL,
so each index fewer is a share less of its time. Only the state changes to db_index=False; the indexes are
dropped by name (AlterField would rebuild the whole table on SQLite)."""

import django.db.models.deletion
from django.db import migrations, models

from yingdan.core.migration_ops import drop_indexes_by_name

FK_INDEXES = {
    "customers_customer_department_id_738c8343": "department_id",
    "customers_customer_level_id_a239ac8d": "level_id",
    "customers_customer_status_id_4f5a4545": "status_id",
}


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0003_attachment'),
        ('customers', '0011_customer_search_name_unindexed'),
        ('org', '0003_grant_customer_asset_modules'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='customer',
                    name='department',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.department', verbose_name='department'),
                ),
                migrations.AlterField(
                    model_name='customer',
                    name='level',
                    field=models.ForeignKey(blank=True, db_index=False, limit_choices_to={'is_active': True, 'kind': 'customer_level'}, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.lookup', verbose_name='level'),
                ),
                migrations.AlterField(
                    model_name='customer',
                    name='status',
                    field=models.ForeignKey(blank=True, db_index=False, limit_choices_to={'is_active': True, 'kind': 'customer_status'}, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.lookup', verbose_name='status'),
                ),
            ],
            database_operations=[drop_indexes_by_name("customers_customer", FK_INDEXES)],
        ),
    ]
