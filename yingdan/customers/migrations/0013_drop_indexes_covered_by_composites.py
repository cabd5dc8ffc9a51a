"""A contact's single-column customer index goes: contact_customer_idx (customer, -is_primary, id) begins with
the same column and answers the same lookups; an import writes one index entry fewer per contact. Only the
state changes to db_index=False; the indexes are dropped by name (`drop_indexes_by_name`)."""

import django.db.models.deletion
from django.db import migrations, models

from yingdan.core.migration_ops import drop_indexes_by_name

FK_INDEXES = {'customers_contact_customer_id_b9afc0da': 'customer_id'}


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0012_drop_redundant_fk_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='contact',
                    name='customer',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='contacts', to='customers.customer', verbose_name='customer'),
                ),
            ],
            database_operations=[drop_indexes_by_name("customers_contact", FK_INDEXES)],
        ),
    ]
