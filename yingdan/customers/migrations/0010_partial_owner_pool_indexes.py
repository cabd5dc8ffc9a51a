"""Customer owner and pool indexes only take the rows they can find.

- cust_owner_idx (owner, -id) and cust_owner_next_idx (owner, next_followup_at) skip rows without an owner
  (pooled records), cust_pool_idx (pool, -id) skips rows outside a pool (95% of them). Lookups by owner or
  pool (`owner_id = X`, `IN (...)`, `pool IS NOT NULL`) imply the condition, so both databases still use them.
- The single-column foreign-key indexes of owner and pool go: the composite indexes begin with the same column.
  Only the state changes to db_index=False; the indexes are dropped by name (AlterField would rebuild the
  whole table on SQLite).

A claim or a recycled record moves between "owned" and "pooled": each such write now maintains three or four
fewer index entries, and an ordinary customer edit two fewer.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from yingdan.core.migration_ops import drop_indexes_by_name

FK_INDEXES = {
    "customers_customer_owner_id_fbb2798e": "owner_id",
    "customers_customer_pool_id_3cdc0e35": "pool_id",
}


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0009_drop_unused_pattern_indexes'),
        ('pools', '0004_poolevent_drop_prefix_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(model_name='customer', name='cust_owner_idx'),
        migrations.RemoveIndex(model_name='customer', name='cust_pool_idx'),
        migrations.RemoveIndex(model_name='customer', name='cust_owner_next_idx'),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='customer',
                    name='owner',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
                ),
                migrations.AlterField(
                    model_name='customer',
                    name='pool',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='pools.pool', verbose_name='public pool'),
                ),
            ],
            database_operations=[drop_indexes_by_name("customers_customer", FK_INDEXES)],
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('owner__isnull', False)), fields=['owner', '-id'], name='cust_owner_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('pool__isnull', False)), fields=['pool', '-id'], name='cust_pool_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('owner__isnull', False)), fields=['owner', 'next_followup_at'], name='cust_owner_next_idx'),
        ),
    ]
