"""Customers: drop the index of search_name (the normalised name). Name fragments are found through the bigram
table (search.SearchGram) and verified with `search_name LIKE '%x%'`, which no B-tree serves; nothing compares
or sorts by it. At a million customers it was the largest index of the table (94 MB on PostgreSQL) and never
scanned, yet every write of a customer maintained it. Only the state changes to db_index=False; the index is
dropped by name (AlterField would rebuild the whole table on SQLite). Contacts keep theirs."""

from django.db import migrations, models

NAME = "customers_customer_search_name_0676cdf4"


def drop(apps, schema_editor):
    schema_editor.execute(f'DROP INDEX IF EXISTS "{NAME}"')


def restore(apps, schema_editor):
    schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{NAME}" ON "customers_customer" ("search_name")')


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0010_partial_owner_pool_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='customer',
                    name='search_name',
                    field=models.CharField(default='', editable=False, max_length=255, verbose_name='normalised name'),
                ),
            ],
            database_operations=[migrations.RunPython(drop, restore)],
        ),
    ]
